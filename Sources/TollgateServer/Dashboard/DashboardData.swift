import TollgateCore
import TollgateStorage

/// Everything one dashboard page shows, read through the functions the admin API answers with
/// (`AdminStats`, `AdminAnalytics`, `AccessAdmin`), so every number on the page is computed one
/// way. All of them are rollup-backed (no raw-event scan) and run concurrently.
struct DashboardData: Sendable {
    /// The stats filters the page accepts (SPEC §9), in the order links write them; `tag.<name>` too.
    static let filterNames = ["from", "to", "org", "team", "user", "key", "provider", "model"]
    /// Rows in each top-N table.
    static let topLimit = 10
    static let alertLimit = 10

    /// The active filters, in `filterNames` order then tags by name; empty values dropped (an
    /// empty field in the filter form means "any").
    var filters: [(name: String, value: String)]
    var summary: JSONObject
    /// `/admin/stats/timeseries` by day, or by hour when the range is at most two days.
    var trend: JSONObject
    var topKeys: JSONObject
    var topUsers: JSONObject
    var topModels: JSONObject
    var budgets: JSONObject
    var alerts: JSONObject

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

    /// Reads the page for `filters` as `principal` sees it. Throws `AdminStats.InvalidQuery` for a
    /// bad filter and `AdminError` for an org the principal may not see.
    static func load(
        filters: [(name: String, value: String)], by principal: AdminPrincipal, store: UsageStore, admin: AccessAdmin
    ) async throws -> DashboardData {
        var query: [String: String] = [:]
        for (name, value) in filters { query[name] = value }
        let (_, range) = try AdminStats.filter(query, by: principal)
        var trendQuery = query
        trendQuery["granularity"] = range.toMs - range.fromMs <= 2 * 86_400_000 ? "hour" : "day"
        var topQueries: [String: [String: String]] = [:]
        for by in ["key", "user", "model"] {
            topQueries[by] = query.merging(["by": by, "order": "cost", "limit": String(topLimit)]) { $1 }
        }
        let (keysQuery, usersQuery, modelsQuery) = (topQueries["key"]!, topQueries["user"]!, topQueries["model"]!)
        let org = query["org"]
        let pairs = query.map { (key: Substring($0.key), value: Substring($0.value)) }
        async let summary = AdminStats.summary(store: store, query: pairs, by: principal)
        async let trend = AdminAnalytics.timeseries(store: store, query: trendQuery, by: principal)
        async let keys = AdminAnalytics.breakdown(store: store, query: keysQuery, by: principal)
        async let users = AdminAnalytics.breakdown(store: store, query: usersQuery, by: principal)
        async let models = AdminAnalytics.breakdown(store: store, query: modelsQuery, by: principal)
        async let budgets = admin.listBudgets(org: org, by: principal)
        async let alerts = admin.listAlerts(org: org, budgetID: nil, limit: alertLimit, by: principal)
        return DashboardData(
            filters: filters, summary: try await summary, trend: try await trend, topKeys: try await keys,
            topUsers: try await users, topModels: try await models, budgets: try await budgets, alerts: try await alerts)
    }
}
