import GRDB
import TollgateCore

/// One kind of failure in a range: the requests that ended with one outcome and status, at one
/// provider and model (SPEC §13 `GET /admin/stats/errors`).
package struct ErrorGroup: Sendable, Equatable {
    package var outcome: String
    package var status: Int
    package var provider: String
    package var model: String
    package var requests: Int64
    /// When the most recent of them started (Unix ms), and its error message; nil when retention
    /// has deleted their raw events.
    package var latestAtMs: Int64?
    package var latestError: String?
}

extension UsageStore {
    /// The requests the filter covers that did not end `ok`, grouped by outcome, status, provider
    /// and model, most frequent first, at most `limit` groups with their latest message; and how
    /// many groups there are in all.
    ///
    /// The counts come from the per-outcome rollups (`RollupDetail.outcome`) whenever the filter
    /// allows, exact for any range; the latest event of each group shown is one seek in the
    /// partial index of failed events (`v10-failure-index`), newest first.
    package func errors(filter: StatsFilter, limit: Int) async throws -> (groups: [ErrorGroup], total: Int) {
        let dimensions: [StatsDimension] = [.outcome, .status, .provider, .model]
        let rows = try await summaries(filter: filter, groupBy: dimensions).filter { $0.values.first != Outcome.ok.rawValue }
        var groups = rows.map { row in
            ErrorGroup(
                outcome: row.values[0] ?? "", status: Int(row.values[1] ?? "") ?? 0, provider: row.values[2] ?? "",
                model: row.values[3] ?? "", requests: row.summary.requests)
        }
        groups.sort { a, b in
            a.requests != b.requests
                ? a.requests > b.requests : (a.outcome, a.status, a.provider, a.model) < (b.outcome, b.status, b.provider, b.model)
        }
        let total = groups.count
        groups = Array(groups.prefix(max(limit, 0)))
        var conditions = ["outcome = ?", "status = ?", "provider = ?", "model = ?"]
        var arguments = StatementArguments()
        let named = try filter.rawConditions(timeColumn: "started_at")
        conditions += named.conditions
        arguments += named.arguments
        let sql = """
            SELECT started_at, error FROM usage_events INDEXED BY usage_events_failures
            WHERE outcome <> 'ok' AND \(conditions.joined(separator: " AND "))
            ORDER BY started_at DESC LIMIT 1
            """
        let (shown, rest) = (groups, arguments)
        let latest = try await read { db in
            try shown.map { group -> (Int64, String?)? in
                let values: StatementArguments = [group.outcome, group.status, group.provider, group.model]
                return try Row.fetchOne(db, sql: sql, arguments: values + rest).map { ($0[0], $0[1]) }
            }
        }
        for (index, found) in latest.enumerated() {
            (groups[index].latestAtMs, groups[index].latestError) = (found?.0, found?.1)
        }
        return (groups, total)
    }
}
