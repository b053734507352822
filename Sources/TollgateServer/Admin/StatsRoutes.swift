import Foundation
import Hummingbird
import TollgateCore
import TollgateStorage

/// `GET /admin/stats` (SPEC §9): the usage summary for the filters given, served from the rollups.
struct StatsRoutes: Sendable {
    let store: UsageStore

    func register(on router: RouterGroup<TollgateRequestContext>) {
        router.get("/admin/stats") { request, context in
            let principal = try context.requirePrincipal()
            return AdminResponse.json(try await AdminStats.summary(store: store, query: request.uri.queryParameters, by: principal).string)
        }
    }
}

/// The stats answers, shared by the admin API and `tollgate stats`.
package enum AdminStats {
    package struct InvalidQuery: Error { package var message: String }

    /// The `/admin/stats` answer for `query` (the endpoint's query parameters).
    package static func summary(
        store: UsageStore, query: some Sequence<(key: Substring, value: Substring)>, by principal: AdminPrincipal = .master
    ) async throws -> JSONObject {
        let filter: StatsFilter
        let range: (fromMs: Int64, toMs: Int64)
        do {
            (filter, range) = try self.filter(query, by: principal)
        } catch let invalid as TimeRange.Invalid {
            throw InvalidQuery(message: invalid.message)
        }
        let summary = try await store.summary(filter: filter)
        var answer = render(summary, fromMs: range.fromMs, toMs: range.toMs)
        // `compare=previous`: the same filters over the equally long range just before.
        if query.contains(where: { $0.key == "compare" && $0.value == "previous" }) {
            var previousFilter = filter
            previousFilter.to = range.fromMs
            previousFilter.from = range.fromMs - (range.toMs - range.fromMs)
            let previous = try await store.summary(filter: previousFilter)
            answer.add("previous", render(previous, fromMs: previousFilter.from, toMs: previousFilter.to))
            var change = JSONObject()
            for (name, now, before) in [
                ("requests", summary.requests, previous.requests), ("cost_usd", summary.costNanos, previous.costNanos),
                ("input_tokens", summary.inputTokens, previous.inputTokens), ("output_tokens", summary.outputTokens, previous.outputTokens),
            ] {
                if before > 0 { change.add(name, Double(now - before) * 100 / Double(before), digits: 2) } else { change.addNull(name) }
            }
            answer.add("change_pct", change)
        }
        return answer
    }

    /// SPEC §9 filters: from, to, org, team, user, key, provider, model, tag.<name>.
    /// `filter` for query parameters already collected in a dictionary.
    package static func filter(_ query: [String: String], by principal: AdminPrincipal) throws -> (StatsFilter, (fromMs: Int64, toMs: Int64)) {
        do {
            return try filter(query.map { (key: Substring($0.key), value: Substring($0.value)) }, by: principal)
        } catch let invalid as TimeRange.Invalid {
            throw InvalidQuery(message: invalid.message)
        }
    }

    /// An org admin's filter is held to its org (another org is 403).
    static func filter(
        _ query: some Sequence<(key: Substring, value: Substring)>, by principal: AdminPrincipal
    ) throws -> (StatsFilter, (fromMs: Int64, toMs: Int64)) {
        var values: [String: String] = [:]
        var tags: [String: String] = [:]
        for (encoded, value) in query {
            // Hummingbird decodes values but not names.
            let name = encoded.contains("%") ? encoded.removingPercentEncoding ?? String(encoded) : String(encoded)
            if name.hasPrefix("tag.") {
                let tag = name.dropFirst(4).lowercased()
                guard TagName.isValid(tag) else {
                    throw InvalidQuery(message: "'\(name)' is not a valid tag filter: a tag name is \(TagName.rule), as in X-Tollgate-Tag-<Name>.")
                }
                tags[tag] = String(value)
            } else {
                values[name] = String(value)
            }
        }
        let range = try TimeRange.parse(from: values["from"], to: values["to"])
        let filter = StatsFilter(
            from: range.fromMs, to: range.toMs, org: try principal.scope(values["org"]), team: values["team"], user: values["user"],
            key: values["key"], provider: values["provider"], model: values["model"], tags: tags)
        return (filter, range)
    }

    /// The summary fields of SPEC §9, money as exact decimal numbers.
    static func render(_ s: StatsSummary, fromMs: Int64?, toMs: Int64?) -> JSONObject {
        var o = JSONObject()
        o.add("requests", s.requests)
        o.add("ok_requests", s.okRequests)
        o.add("error_requests", s.errorRequests)
        o.add("blocked_requests", s.blockedRequests)
        o.add("cached_requests", s.cachedRequests)
        o.add("cache_hit_rate", s.requests > 0 ? Double(s.cachedRequests) / Double(s.requests) : 0, digits: 4)
        o.add("input_tokens", s.inputTokens)
        o.add("output_tokens", s.outputTokens)
        o.add("cached_input_tokens", s.cachedInputTokens)
        o.add("cache_write_tokens", s.cacheWriteTokens)
        o.add("reasoning_tokens", s.reasoningTokens)
        o.add("cost_usd", usd: s.costNanos)
        o.add("potential_cost_usd", usd: s.potentialCostNanos)
        let savings = s.potentialCostNanos - s.costNanos
        o.add("savings_usd", usd: savings)
        o.add("savings_pct", s.potentialCostNanos > 0 ? Double(savings) * 100 / Double(s.potentialCostNanos) : 0, digits: 2)
        o.add("prompt_cache_savings_usd", usd: s.promptCacheSavingsNanos)
        o.add("charged_usd", usd: s.chargedNanos)
        o.add("profit_usd", usd: s.chargedNanos - s.costNanos)
        o.add("avg_latency_ms", s.averageLatencyMs ?? 0)
        o.add("p50_latency_ms", s.p50LatencyMs ?? 0)
        o.add("p95_latency_ms", s.p95LatencyMs ?? 0)
        o.add("p99_latency_ms", s.p99LatencyMs ?? 0)
        o.add("unpriced_requests", s.unpricedRequests)
        o.add("from", fromMs.map(TimeRange.iso))
        o.add("to", toMs.map(TimeRange.iso))
        return o
    }
}
