import TollgateCore

/// SQL text shared by the writer, the queries and the rollup rebuild, kept in one place so the
/// Swift classification in `UsageEvent+Storage` and its SQL twin can be read side by side.
enum UsageSQL {
    /// The stored columns of `usage_events`, in `UsageEvent.bindInsert` order.
    static let eventColumns = [
        "request_id", "started_at", "org", "key_id", "team", "\"user\"", "department", "session", "tags",
        "provider", "endpoint", "model", "status", "outcome", "stream", "cached",
        "input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens", "reasoning_tokens",
        "cost_nanos", "potential_cost_nanos", "prompt_cache_savings_nanos", "charged_nanos",
        "latency_ms", "ttfb_ms", "upstream_ms", "bytes_in", "bytes_out", "usage_source", "priced",
        "pricing_version", "error",
    ]

    /// Inserts one event unless its request id is already stored (then changes nothing).
    static let insertEvent = """
        INSERT OR IGNORE INTO usage_events (\(eventColumns.joined(separator: ", ")))
        VALUES (\(Array(repeating: "?", count: eventColumns.count).joined(separator: ", ")))
        """

    /// `outcome IN (…)` list of the outcomes counted as blocked (`Outcome.isBlocked`).
    static let blockedOutcomes = Outcome.allCases.filter(\.isBlocked).map { "'\($0.rawValue)'" }.joined(separator: ", ")

    /// SQL twin of `UsageEvent.isBlockedRequest`.
    static let isBlocked = "(outcome IN (\(blockedOutcomes)))"
    /// SQL twin of `outcome == .ok`.
    static let isOK = "(outcome = '\(Outcome.ok.rawValue)')"
    /// SQL twin of `UsageEvent.isErrorRequest`.
    static let isError = "(outcome <> '\(Outcome.ok.rawValue)' AND outcome NOT IN (\(blockedOutcomes)))"
    /// SQL twin of `UsageEvent.isUnpricedRequest`.
    static let isUnpriced = """
        (priced = 0 AND endpoint <> '\(Endpoint.other.rawValue)' \
        AND outcome NOT IN (\(blockedOutcomes), '\(Outcome.invalidRequest.rawValue)'))
        """
    /// SQL twin of `UsageEvent.latencyMicros` (CAST truncates toward zero, as `Int64(_:)` does).
    static let latencyMicros = "CAST(latency_ms * 1000 + 0.5 AS INTEGER)"

    /// The summary columns in `StatsSummary(row:)` order, aggregated over raw `usage_events` rows.
    static let rawSummaryColumns = """
        COUNT(*),
        COALESCE(SUM(\(isOK)), 0),
        COALESCE(SUM(\(isError)), 0),
        COALESCE(SUM(\(isBlocked)), 0),
        COALESCE(SUM(cached), 0),
        COALESCE(SUM(\(isUnpriced)), 0),
        COALESCE(SUM(input_tokens), 0),
        COALESCE(SUM(output_tokens), 0),
        COALESCE(SUM(cached_input_tokens), 0),
        COALESCE(SUM(cache_write_tokens), 0),
        COALESCE(SUM(reasoning_tokens), 0),
        COALESCE(SUM(cost_nanos), 0),
        COALESCE(SUM(potential_cost_nanos), 0),
        COALESCE(SUM(prompt_cache_savings_nanos), 0),
        COALESCE(SUM(charged_nanos), 0),
        COALESCE(SUM(\(latencyMicros)), 0),
        \(LatencyHistogram.aggregateFunctionName)(latency_ms)
        """

    /// The rollup counters, in `StatsSummary.bindUpsert` order (after the key columns).
    static let rollupCounterColumns = [
        "requests", "ok_requests", "error_requests", "blocked_requests", "cached_requests", "unpriced_requests",
        "input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens", "reasoning_tokens",
        "cost_nanos", "potential_cost_nanos", "prompt_cache_savings_nanos", "charged_nanos", "latency_us_sum",
    ]

    /// The summary columns in `StatsSummary(row:)` order, aggregated over rollup rows.
    static let rollupSummaryColumns =
        rollupCounterColumns.map { "COALESCE(SUM(\($0)), 0)" }.joined(separator: ",\n")
        + ",\n\(LatencyHistogram.aggregateFunctionName)(latency_hist)"

    /// Adds one batch's totals to a rollup row, creating it if needed.
    static func upsertRollup(table: RollupTable) -> String {
        upsertRollup(into: table.name, keyColumns: table.keyColumns)
    }

    /// The upsert of a rollup table named `name` whose primary key is `keyColumns`.
    static func upsertRollup(into name: String, keyColumns: [String]) -> String {
        let columns = keyColumns + rollupCounterColumns + ["latency_hist"]
        let updates = rollupCounterColumns.map { "\($0) = \($0) + excluded.\($0)" }
            + ["latency_hist = \(LatencyHistogram.unionFunctionName)(latency_hist, excluded.latency_hist)"]
        return """
            INSERT INTO \(name) (\(columns.joined(separator: ", ")))
            VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))
            ON CONFLICT (\(keyColumns.joined(separator: ", "))) DO UPDATE SET
            \(updates.joined(separator: ",\n"))
            """
    }

    /// The start of the `size`-millisecond bucket holding `column` (floor, also before 1970).
    static func bucketStart(_ column: String, size: Int64) -> String {
        "(\(column) - ((\(column) % \(size)) + \(size)) % \(size))"
    }
}
