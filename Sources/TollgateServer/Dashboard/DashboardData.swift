import TollgateCore
import TollgateStorage

/// Everything one dashboard page shows, read through the functions the admin API answers with
/// (`AdminStats`, `AccessAdmin`), so every number on the page is computed one
/// way. All of them are rollup-backed (no raw-event scan) and run concurrently.
struct DashboardData: Sendable {
    /// The stats filters the page accepts (SPEC §9, §13), in the order links write them; `tag.<name>`
    /// too; then the page's own settings, kept in every link: `tz` and `order` (of the top tables).
    static let filterNames = ["from", "to", "org", "team", "user", "department", "key", "provider", "model", "tz", "order"]
    /// Zones offered in the time-zone choice (any IANA zone works in the URL).
    static let zones = ["UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Tokyo", "Asia/Singapore", "Australia/Sydney"]
    /// Rows in each top-N table.
    static let topLimit = 10
    static let alertLimit = 10

    /// The active filters, in `filterNames` order then tags by name; empty values dropped (an
    /// empty field in the filter form means "any").
    var filters: [(name: String, value: String)]
    var summary: SummaryAnswer
    /// `/admin/stats/timeseries` by day, or by hour when the range is at most two days.
    var trend: TimeseriesAnswer
    var topKeys: BreakdownAnswer
    var topUsers: BreakdownAnswer
    var topModels: BreakdownAnswer
    var topTeams: BreakdownAnswer
    var topDepartments: BreakdownAnswer
    var topProviders: BreakdownAnswer
    /// Every org's figures, for the master admin only.
    var topOrgs: BreakdownAnswer?
    var errors: ErrorsAnswer
    /// Key names by id, for the keys table (passthrough ids have none).
    var keyNames: [String: String]
    /// What the top tables are ordered by.
    var order: BreakdownOrder
    var budgets: ListAnswer<BudgetView>
    var alerts: ListAnswer<AlertView>

    /// The filters among form-decoded query pairs, in a stable order.
    static func filters(_ pairs: [(name: String, value: String)]) -> [(name: String, value: String)] {
        var known: [String: String] = [:]
        var tags: [String: String] = [:]
        for (name, value) in pairs where !value.isEmpty {
            if filterNames.contains(name) {
                known[name] = value
            } else if name.hasPrefix("tag.") {
                tags[name] = value
            }
        }
        return filterNames.compactMap { name in known[name].map { (name, $0) } } + tags.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Reads the page for `filters` as `principal` sees it. Throws `InvalidQuery` for a bad
    /// filter and `AdminError` for an org the principal may not see.
    static func load(
        filters: [(name: String, value: String)], by principal: AdminPrincipal, stats: AdminStats, admin: AccessAdmin
    ) async throws -> DashboardData {
        let parameters = QueryParameters(Dictionary(filters, uniquingKeysWith: { $1 }))
        let query = try StatsQuery(parameters)
        let order = try parameters["order"].map { text throws(InvalidQuery) in
            guard let order = BreakdownOrder(rawValue: text) else { throw InvalidQuery("'order' must be cost, requests or tokens, got '\(text)'.") }
            return order
        } ?? .cost
        let range = try query.range()
        let granularity: TimeseriesGranularity = range.toMs - range.fromMs <= 2 * 86_400_000 ? .hour : .day
        func top(_ by: StatsDimension) -> BreakdownQuery { BreakdownQuery(filters: query, by: by, order: order, limit: topLimit) }
        async let summary = stats.summary(SummaryQuery(filters: query), by: principal)
        async let trend = stats.timeseries(TimeseriesQuery(filters: query, granularity: granularity), by: principal)
        async let keys = stats.breakdown(top(.key), by: principal)
        async let users = stats.breakdown(top(.user), by: principal)
        async let models = stats.breakdown(top(.model), by: principal)
        async let teams = stats.breakdown(top(.team), by: principal)
        async let departments = stats.breakdown(top(.department), by: principal)
        async let providers = stats.breakdown(top(.provider), by: principal)
        async let errors = stats.errors(ErrorsQuery(filters: query, limit: topLimit), by: principal)
        async let budgets = admin.listBudgets(org: query.org, by: principal)
        async let alerts = admin.listAlerts(org: query.org, budgetID: nil, limit: alertLimit, by: principal)
        async let keyList = admin.listKeys(org: query.org, cursor: nil, limit: 1000, by: principal)
        let orgs = principal == .master ? try await stats.breakdown(top(.org), by: principal) : nil
        var names: [String: String] = [:]
        for key in try await keyList.data where !key.name.isEmpty { names[key.id] = key.name }
        return DashboardData(
            filters: filters, summary: try await summary, trend: try await trend, topKeys: try await keys,
            topUsers: try await users, topModels: try await models, topTeams: try await teams, topDepartments: try await departments,
            topProviders: try await providers, topOrgs: orgs, errors: try await errors, keyNames: names, order: order,
            budgets: try await budgets, alerts: try await alerts)
    }
}
