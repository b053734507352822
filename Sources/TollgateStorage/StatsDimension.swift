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

    var needsRawEvents: Bool {
        if case .tag = self { return true }
        return false
    }
}

/// One row of a grouped stats query: a time bucket and/or a group, and its totals.
package struct StatsGroup: Sendable, Equatable {
    /// Start of the time bucket in Unix ms, when the query had a granularity.
    package var bucketStart: Int64?
    /// The value of each `groupBy` dimension, in order; nil where the request had none (no team,
    /// no user, tag absent).
    package var values: [String?]
    package var summary: StatsSummary

    package init(bucketStart: Int64?, values: [String?], summary: StatsSummary) {
        self.bucketStart = bucketStart
        self.values = values
        self.summary = summary
    }
}
