import Foundation
import GRDB
import TollgateCore

/// How a usage event is stored in `usage_events` and classified in rollups.
///
/// Every rule here has its SQL twin in `UsageSQL`, used by the raw-event queries and the rollup
/// rebuild; the tests check that both give the same totals.
extension UsageEvent {
    /// The latency kept for this event: finite, at least 0, at most 10¹² ms.
    var storedLatencyMs: Double {
        guard latencyMs.isFinite else { return 0 }
        return min(max(latencyMs, 0), 1e12)
    }

    /// The latency in whole microseconds, rounded half up; summed in rollups as an exact integer.
    /// Matches `UsageSQL.latencyMicros` operation for operation.
    var latencyMicros: Int64 { Int64(storedLatencyMs * 1000 + 0.5) }

    /// Counted in `blocked_requests`: refused by Tollgate before forwarding.
    var isBlockedRequest: Bool { outcome.isBlocked }

    /// Counted in `error_requests`: neither `ok` nor blocked.
    var isErrorRequest: Bool { outcome != .ok && !outcome.isBlocked }

    /// Counted in `unpriced_requests`: a metered request that went (or would have gone) to the
    /// provider but whose cost could not be computed (SPEC §6). Requests refused before forwarding
    /// and malformed requests are not, since nothing was ever to be priced for them.
    var isUnpricedRequest: Bool {
        !priced && endpoint.isMetered && !outcome.isBlocked && outcome != .invalidRequest
    }

    /// `tags` as stored: a JSON object with keys in ascending order.
    var tagsJSON: String {
        guard !tags.isEmpty else { return "{}" }
        var json = "{"
        for (index, name) in tags.keys.sorted().enumerated() {
            if index > 0 { json += "," }
            JSONText.append(name, to: &json)
            json += ":"
            JSONText.append(tags[name] ?? "", to: &json)
        }
        json += "}"
        return json
    }

    /// Binds the values of `UsageSQL.insertEvent`, in column order.
    func bindInsert(to statement: inout RawStatement) throws {
        try statement.bind(requestID)
        try statement.bind(startedAtMs)
        try statement.bind(org)
        try statement.bind(keyID)
        try statement.bind(team)
        try statement.bind(user)
        try statement.bind(department)
        try statement.bind(session)
        try statement.bind(tagsJSON)
        try statement.bind(provider)
        try statement.bind(endpoint.rawValue)
        try statement.bind(model)
        try statement.bind(status)
        try statement.bind(outcome.rawValue)
        try statement.bind(stream)
        try statement.bind(cached)
        try statement.bind(usage.inputTokens)
        try statement.bind(usage.outputTokens)
        try statement.bind(usage.cachedInputTokens)
        try statement.bind(usage.cacheWriteTokens)
        try statement.bind(usage.reasoningTokens)
        try statement.bind(costNanos)
        try statement.bind(potentialCostNanos)
        try statement.bind(promptCacheSavingsNanos)
        try statement.bind(chargedNanos)
        try statement.bind(storedLatencyMs)
        try statement.bind(ttfbMs.flatMap(Self.finite))
        try statement.bind(upstreamMs.flatMap(Self.finite))
        try statement.bind(bytesIn)
        try statement.bind(bytesOut)
        try statement.bind(usageSource.rawValue)
        try statement.bind(priced)
        try statement.bind(pricingVersion)
        try statement.bind(error)
    }

    private static func finite(_ value: Double) -> Double? { value.isFinite ? value : nil }

    /// Reads a `usage_events` row (all columns, as `SELECT *`).
    package init(row: Row) throws {
        func decode<T: RawRepresentable>(_ type: T.Type, _ column: String) throws -> T where T.RawValue == String {
            let raw: String = row[column]
            guard let value = T(rawValue: raw) else {
                throw StorageError(.databaseFailed, "usage_events.\(column) holds unknown value \(raw)")
            }
            return value
        }
        let tagsText: String = row["tags"]
        let tags: [String: String]
        do {
            tags = try JSONDecoder().decode([String: String].self, from: Data(tagsText.utf8))
        } catch {
            throw StorageError(.databaseFailed, "usage_events.tags is not a JSON object of strings", underlying: error)
        }
        self.init(
            requestID: row["request_id"], startedAtMs: row["started_at"], org: row["org"], keyID: row["key_id"],
            team: row["team"], user: row["user"], department: row["department"], session: row["session"],
            tags: tags, provider: row["provider"], endpoint: try decode(Endpoint.self, "endpoint"),
            model: row["model"], status: row["status"], outcome: try decode(Outcome.self, "outcome"),
            stream: row["stream"], cached: row["cached"],
            usage: Usage(
                inputTokens: row["input_tokens"], outputTokens: row["output_tokens"],
                cachedInputTokens: row["cached_input_tokens"], cacheWriteTokens: row["cache_write_tokens"],
                reasoningTokens: row["reasoning_tokens"]),
            costNanos: row["cost_nanos"], potentialCostNanos: row["potential_cost_nanos"],
            promptCacheSavingsNanos: row["prompt_cache_savings_nanos"], chargedNanos: row["charged_nanos"],
            latencyMs: row["latency_ms"], ttfbMs: row["ttfb_ms"], upstreamMs: row["upstream_ms"],
            bytesIn: row["bytes_in"], bytesOut: row["bytes_out"],
            usageSource: try decode(UsageSource.self, "usage_source"), priced: row["priced"],
            pricingVersion: row["pricing_version"], error: row["error"])
    }
}
