/// How finely a rollup table splits usage: the attribution dimensions its rows keep.
///
/// - `full` keeps every dimension a stats filter can name (org, key, team, user, provider, model);
/// - `caller` keeps who called (org, key, team, user) and drops provider and model;
/// - `model` keeps what was called (org, provider, model) and drops key, team and user;
/// - `org` keeps the org only.
///
/// A month-long stats query costs about one latency-histogram merge per rollup row it reads, so a
/// query reads the coarsest detail that keeps every dimension it filters or groups by (see
/// `coarsest(answering:groupBy:)`). With the benchmark's 6 orgs × 4 keys × 8 users per key × 8
/// models a day is 1 536 `full` rows, 192 `caller`, 48 `model` and 6 `org` rows.
enum RollupDetail: Sendable, CaseIterable {
    case full
    case caller
    case model
    case org

    /// The dimensions kept, in key-column order (`RollupKey` order).
    var dimensions: [StatsDimension] {
        switch self {
        case .full: [.org, .key, .team, .user, .provider, .model]
        case .caller: [.org, .key, .team, .user]
        case .model: [.org, .provider, .model]
        case .org: [.org]
        }
    }

    /// The key columns after `bucket_start`.
    var dimensionColumns: [String] { dimensions.map(\.rollupColumn) }

    /// Whether a query with this filter and grouping can be answered at this detail: no tag or
    /// request id, and every dimension it filters or groups by is kept.
    func answers(_ filter: StatsFilter, groupBy: [StatsDimension]) -> Bool {
        guard filter.tags.isEmpty, filter.requestID == nil else { return false }
        let kept = dimensions
        return (filter.namedValues.map(\.dimension) + groupBy).allSatisfy(kept.contains)
    }

    /// Details from coarsest to finest. `caller` and `model` are never both able to answer a query
    /// that `org` cannot, so their relative order does not matter.
    static let coarsestFirst: [RollupDetail] = [.org, .model, .caller, .full]

    /// The coarsest detail that answers the query, nil when only raw events can (tags, SPEC §13's dimensions).
    static func coarsest(answering filter: StatsFilter, groupBy: [StatsDimension]) -> RollupDetail? {
        coarsestFirst.first { $0.answers(filter, groupBy: groupBy) }
    }
}

extension StatsDimension {
    /// The rollup column of an attribution dimension; only the dimensions of `RollupDetail.full` have one.
    var rollupColumn: String {
        switch self {
        case .org: "org"
        case .key: "key_id"
        case .team: "team"
        case .user: "\"user\""
        case .provider: "provider"
        case .model: "model"
        case .department, .session, .endpoint, .outcome, .status, .tag: preconditionFailure("rollups do not carry \(parameter)")
        }
    }
}
