/// A dimension stats can be grouped by (SPEC §9 `group_by`, `breakdown?by=`).
package enum StatsDimension: Sendable, Hashable {
    case org
    case team
    case user
    case key
    case provider
    case model
    // SPEC §13's dimensions (`RollupDetail` says which rollups keep them; `session` none).
    case department
    case session
    case endpoint
    case outcome
    /// The HTTP status answered, grouped as its decimal text (`429`).
    case status
    /// A `tag.<name>` dimension (name lower-cased); from its rollups when configured (`TagRollups`).
    case tag(String)

    /// Every dimension but tags, in the order error messages list them.
    package static let named: [StatsDimension] = [.org, .team, .user, .key, .provider, .model, .department, .session, .endpoint, .outcome, .status]

    /// Parses a dimension's name (`org`, …, `status`) or `tag.<name>`.
    package init?(parameter: String) {
        if let named = Self.named.first(where: { $0.parameter == parameter }) {
            self = named
            return
        }
        guard parameter.hasPrefix("tag."), parameter.count > 4 else { return nil }
        self = .tag(String(parameter.dropFirst(4)).lowercased())
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
        case .department: "department"
        case .session: "session"
        case .endpoint: "endpoint"
        case .outcome: "outcome"
        case .status: "status"
        case .tag(let name): "tag." + name
        }
    }

    /// The `usage_events` expression a raw query groups by (a tag's is built, and checked, by
    /// `StatsQueryPlan.Segment.quotedTagPath`).
    var rawColumn: String {
        switch self {
        case .key: "key_id"
        case .user: "\"user\""
        case .status: "CAST(status AS TEXT)"
        case .tag: preconditionFailure("a tag's column is built by quotedTagPath")
        default: parameter
        }
    }
}
