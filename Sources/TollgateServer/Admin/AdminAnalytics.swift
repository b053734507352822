import Foundation
import TollgateCore
import TollgateStorage

/// The drill-down stats answers of SPEC §9 — timeseries, breakdown, forecast, raw usage — shared by
/// the admin API and `tollgate stats` / `tollgate export`. Every query takes the endpoint's query
/// parameters and the caller (an org admin is held to its org).
package enum AdminAnalytics {
    typealias Query = [String: String]

    /// `GET /admin/stats/timeseries`: `granularity=hour|day`, optional `group_by` (one dimension).
    package static func timeseries(store: UsageStore, query: [String: String], by principal: AdminPrincipal) async throws -> JSONObject {
        let (filter, range) = try AdminStats.filter(query, by: principal)
        let granularity: RollupGranularity
        switch query["granularity"] ?? "day" {
        case "hour": granularity = .hour
        case "day": granularity = .day
        case let other: throw AdminStats.InvalidQuery(message: "'granularity' must be hour or day, got '\(other)'.")
        }
        let dimension = try query["group_by"].map { try self.dimension($0, field: "group_by") }
        let rows = try await store.summaries(filter: filter, groupBy: dimension.map { [$0] } ?? [], granularity: granularity)
        var o = JSONObject()
        o.add("granularity", granularity == .hour ? "hour" : "day")
        o.add("group_by", query["group_by"])
        o.add("data", objects: rows.map { row in
            var item = JSONObject()
            item.add("bucket", row.bucketStart.map(UTCTime.iso))
            item.add("group", dimension == nil ? nil : row.values.first ?? nil)
            item.append(AdminStats.render(row.summary, fromMs: nil, toMs: nil), dropping: ["from", "to"])
            return item
        })
        o.add("from", UTCTime.iso(range.fromMs))
        o.add("to", UTCTime.iso(range.toMs))
        return o
    }

    /// `GET /admin/stats/breakdown`: `by`, `order=cost|requests|tokens`, `limit` (default 50); with
    /// the average per group, so a user can be compared with their org's average.
    package static func breakdown(store: UsageStore, query: [String: String], by principal: AdminPrincipal) async throws -> JSONObject {
        let (filter, range) = try AdminStats.filter(query, by: principal)
        guard let by = query["by"] else { throw AdminStats.InvalidQuery(message: "'by' is required: org, team, user, key, provider, model or tag.<name>.") }
        let dimension = try dimension(by, field: "by")
        let order = query["order"] ?? "cost"
        let metric: (StatsSummary) -> Int64
        switch order {
        case "cost": metric = { $0.costNanos }
        case "requests": metric = { $0.requests }
        case "tokens": metric = { $0.inputTokens + $0.outputTokens }
        default: throw AdminStats.InvalidQuery(message: "'order' must be cost, requests or tokens, got '\(order)'.")
        }
        let limit = try limitValue(query["limit"], default: 50, max: 10_000)
        let rows = try await store.summaries(filter: filter, groupBy: [dimension]).sorted { a, b in
            let (x, y) = (metric(a.summary), metric(b.summary))
            return x != y ? x > y : (a.values.first.flatMap { $0 } ?? "") < (b.values.first.flatMap { $0 } ?? "")
        }
        var total = StatsSummary()
        for row in rows { total.merge(row.summary) }
        var o = JSONObject()
        o.add("by", by)
        o.add("order", order)
        o.add("groups", rows.count)
        o.add("data", objects: rows.prefix(limit).map { row in
            var item = JSONObject()
            item.add("group", row.values.first ?? nil)
            item.append(AdminStats.render(row.summary, fromMs: nil, toMs: nil), dropping: ["from", "to"])
            return item
        })
        var average = JSONObject()
        let n = Int64(max(rows.count, 1))
        average.add("requests", Double(total.requests) / Double(n), digits: 2)
        average.add("input_tokens", Double(total.inputTokens) / Double(n), digits: 2)
        average.add("output_tokens", Double(total.outputTokens) / Double(n), digits: 2)
        average.add("cost_usd", usd: CostCalculator.roundedDivision(total.costNanos, by: n))
        o.add("average", average)
        o.add("from", UTCTime.iso(range.fromMs))
        o.add("to", UTCTime.iso(range.toMs))
        return o
    }

    /// `GET /admin/stats/forecast`: the next 30 and 90 days' spend from the last `history` days
    /// (default 56) of daily cost; method in `SpendForecast` and docs/analytics.md.
    package static func forecast(store: UsageStore, query: [String: String], by principal: AdminPrincipal, nowMs: Int64) async throws -> JSONObject {
        let days = try limitValue(query["history_days"], default: 56, max: 730, name: "history_days")
        guard days >= 7 else { throw AdminStats.InvalidQuery(message: "'history_days' must be at least 7.") }
        let today = BudgetPeriod.day.start(containing: nowMs)
        var params = query
        params["from"] = UTCTime.iso(today - Int64(days) * 86_400_000)
        params["to"] = UTCTime.iso(today)
        let (filter, _) = try AdminStats.filter(params, by: principal)
        let rows = try await store.summaries(filter: filter, granularity: .day)
        var daily = [Double](repeating: 0, count: days)
        for row in rows {
            guard let bucket = row.bucketStart else { continue }
            let index = Int((bucket - filter.from!) / 86_400_000)
            if daily.indices.contains(index) { daily[index] = Double(row.summary.costNanos) / 1e9 }
        }
        // 1970-01-01 was a Thursday (weekday 3 with Monday = 0).
        let firstWeekday = Int(((filter.from! / 86_400_000) + 3) % 7)
        var o = JSONObject()
        o.add("method", "linear trend + weekly seasonality, least squares over the last \(days) full UTC days")
        o.add("history_days", days)
        o.add("history_from", UTCTime.iso(filter.from!))
        o.add("history_to", UTCTime.iso(filter.to!))
        o.add("history_cost_usd", usd: rows.reduce(0) { $0 + $1.summary.costNanos })
        guard let fit = SpendForecast.fit(daily, firstWeekday: firstWeekday) else { return o }
        o.add("trend_usd_per_day", fit.slope, digits: 9)
        for horizon in [30, 90] {
            let p = fit.projection(days: horizon)
            o.add("next_\(horizon)_days_usd", usd: Int64((p.total * 1e9).rounded()))
            o.add("next_\(horizon)_days_low_usd", usd: Int64((p.low * 1e9).rounded()))
            o.add("next_\(horizon)_days_high_usd", usd: Int64((p.high * 1e9).rounded()))
        }
        // No spend at all says nothing about the future: confidence 0, not a perfect fit.
        o.add("confidence", daily.contains { $0 > 0 } ? fit.rSquared : 0, digits: 4)
        return o
    }

    /// `GET /admin/usage`: raw events newest first, `limit` ≤ 1000 (default 100), `cursor`.
    package static func usage(store: UsageStore, query: [String: String], by principal: AdminPrincipal) async throws -> JSONObject {
        let (filter, _) = try AdminStats.filter(query, by: principal)
        let limit = try limitValue(query["limit"], default: 100, max: 1000)
        var cursor: UsageEventCursor?
        if let text = query["cursor"] {
            guard let parsed = UsageEventCursor(encoded: text) else { throw AdminStats.InvalidQuery(message: "'cursor' is not one this API gave.") }
            cursor = parsed
        }
        let page = try await store.events(filter: filter, limit: limit, after: cursor)
        var o = JSONObject()
        o.add("data", objects: page.events.map(UsageEventExport.json))
        o.add("next_cursor", page.nextCursor?.encoded)
        return o
    }

    /// Every event the filters cover, newest first, page by page (for exports).
    package static func exportPages(
        store: UsageStore, query: [String: String], by principal: AdminPrincipal,
        _ body: ([UsageEvent]) async throws -> Void
    ) async throws {
        let (filter, _) = try AdminStats.filter(query, by: principal)
        var cursor: UsageEventCursor?
        repeat {
            let page = try await store.events(filter: filter, limit: 1000, after: cursor)
            try await body(page.events)
            cursor = page.nextCursor
        } while cursor != nil
    }

    /// The dimension `field` (`by`, `group_by`) names; a tag's name follows `TagName`'s rule.
    static func dimension(_ text: String, field: String) throws -> StatsDimension {
        guard let dimension = StatsDimension(parameter: text) else {
            throw AdminStats.InvalidQuery(message: "'\(field)' must be org, team, user, key, provider, model or tag.<name>, got '\(text)'.")
        }
        if case .tag(let name) = dimension, !TagName.isValid(name) {
            throw AdminStats.InvalidQuery(message: "'\(field)' names an invalid tag ('\(text)'): a tag name is \(TagName.rule).")
        }
        return dimension
    }

    static func limitValue(_ text: String?, default value: Int, max: Int, name: String = "limit") throws -> Int {
        guard let text else { return value }
        guard let limit = Int(text), limit >= 1, limit <= max else {
            throw AdminStats.InvalidQuery(message: "'\(name)' must be 1 to \(max), got '\(text)'.")
        }
        return limit
    }
}

extension JSONObject {
    /// Appends another object's members, leaving out `names`.
    mutating func append(_ other: JSONObject, dropping names: Set<String>) {
        for (name, json) in other.members where !names.contains(name) { addRaw(name, json) }
    }
}
