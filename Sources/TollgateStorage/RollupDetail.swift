/// How finely a rollup table splits usage: the attribution dimensions its rows keep.
///
/// - `full` keeps who called and what (org, key, team, user, provider, model);
/// - `caller` keeps who called (org, key, team, user) and drops provider and model;
/// - `model` keeps what was called (org, provider, model) and drops key, team and user;
/// - `department` keeps the org's departments (SPEC §13), for department budgets and stats;
/// - `outcome` keeps how requests ended (org, provider, model, endpoint, outcome, status), for the
///   errors report and SPEC §13's outcome, status and endpoint filters and breakdowns;
/// - `org` keeps the org only.
/// Sessions are read from raw events; configured tags have rollups of their own (`TagRollups`),
/// other tags are read from raw events.
///
/// A month-long stats query costs about one latency-histogram merge per rollup row it reads, so a
/// query reads the coarsest detail that keeps every dimension it filters or groups by (see
/// `coarsest(answering:groupBy:)`). With the benchmark's 6 orgs × 4 keys × 8 users per key × 8
/// models a day is 1 536 `full` rows, 192 `caller`, 48 `model` and 6 `org` rows.
enum RollupDetail: Sendable, CaseIterable {
    case full
    case caller
    case model
    case department
    case outcome
    case org

    /// The dimensions kept, in key-column order (`RollupKey` order).
    var dimensions: [StatsDimension] {
        switch self {
        case .full: [.org, .key, .team, .user, .provider, .model]
        case .caller: [.org, .key, .team, .user]
        case .model: [.org, .provider, .model]
        case .department: [.org, .department]
        case .outcome: [.org, .provider, .model, .endpoint, .outcome, .status]
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

    /// Details from coarsest to finest: the first that keeps what a query names answers it.
    static let coarsestFirst: [RollupDetail] = [.org, .department, .model, .caller, .outcome, .full]

    /// The coarsest detail that answers the query, nil when only raw events can (tags, SPEC §13's dimensions).
    static func coarsest(answering filter: StatsFilter, groupBy: [StatsDimension]) -> RollupDetail? {
        coarsestFirst.first { $0.answers(filter, groupBy: groupBy) }
    }
}

extension StatsDimension {
    /// The rollup column of a dimension some `RollupDetail` keeps (`status` is text there: '429').
    var rollupColumn: String {
        switch self {
        case .org: "org"
        case .key: "key_id"
        case .team: "team"
        case .user: "\"user\""
        case .provider: "provider"
        case .model: "model"
        case .department: "department"
        case .endpoint: "endpoint"
        case .outcome: "outcome"
        case .status: "status"
        case .session, .tag: preconditionFailure("rollups do not carry \(parameter)")
        }
    }
}

extension StatsDimension {
    /// The `usage_events` expression a rollup key column is filled from (missing values as '').
    var rollupSourceExpression: String {
        switch self {
        case .team, .user, .department: "COALESCE(\(rawColumn), '')"
        default: rawColumn
        }
    }
}
