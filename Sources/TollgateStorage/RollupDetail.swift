/// How finely a rollup table splits usage.
///
/// `full` keeps every attribution dimension a stats filter can name (org, key, team, user, provider,
/// model); `model` keeps only org, provider and model. With the benchmark's 6 orgs × 4 keys × 8 users
/// × 8 models a day is 1 536 `full` rows but 48 `model` rows, and a month-long stats query merges one
/// latency histogram per row, so queries that filter and group on org, provider and model only read
/// the `model` tables (see `StatsQueryPlan`).
enum RollupDetail: Sendable, CaseIterable {
    case full
    case model

    /// The key columns after `bucket_start`, in `RollupKey` order.
    var dimensionColumns: [String] {
        switch self {
        case .full: ["org", "key_id", "team", "\"user\"", "provider", "model"]
        case .model: ["org", "provider", "model"]
        }
    }

    /// Whether a query with this filter and grouping can be answered at this detail.
    func answers(_ filter: StatsFilter, groupBy: [StatsDimension]) -> Bool {
        switch self {
        case .full:
            return filter.tags.isEmpty && !groupBy.contains(where: \.needsRawEvents)
        case .model:
            guard filter.tags.isEmpty, filter.key == nil, filter.team == nil, filter.user == nil else { return false }
            return groupBy.allSatisfy { dimension in
                switch dimension {
                case .org, .provider, .model: true
                case .key, .team, .user, .tag: false
                }
            }
        }
    }
}
