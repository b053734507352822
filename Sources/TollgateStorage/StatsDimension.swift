/// A dimension stats can be grouped by (SPEC §9 `group_by`, `breakdown?by=`).
package enum StatsDimension: Sendable, Hashable {
    case org
    case team
    case user
    case key
    case provider
    case model
    /// A `tag.<name>` dimension (name lower-cased); grouping by it reads raw events.
    case tag(String)

    /// Parses `org`, `team`, `user`, `key`, `provider`, `model` or `tag.<name>`.
    package init?(parameter: String) {
        switch parameter {
        case "org": self = .org
        case "team": self = .team
        case "user": self = .user
        case "key": self = .key
        case "provider": self = .provider
        case "model": self = .model
        default:
            guard parameter.hasPrefix("tag."), parameter.count > 4 else { return nil }
            self = .tag(String(parameter.dropFirst(4)).lowercased())
        }
    }

    /// The text `init(parameter:)` reads.
    package var parameter: String {
        switch self {
        case .org: "org"
        case .team: "team"
        case .user: "user"
        case .key: "key"
        case .provider: "provider"
        case .model: "model"
        case .tag(let name): "tag." + name
        }
    }

    var needsRawEvents: Bool {
        if case .tag = self { return true }
        return false
    }
}
