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
    /// When the most recent of them started (Unix ms), and its error message.
    package var latestAtMs: Int64
    package var latestError: String?
}

extension UsageStore {
    /// The requests the filter covers that did not end `ok`, grouped by outcome, status, provider
    /// and model, most frequent first (then most recent). Read from raw events: the rollups keep no
    /// outcome or error text.
    package func errors(filter: StatsFilter) async throws -> [ErrorGroup] {
        var conditions = ["outcome != 'ok'"]
        var arguments = StatementArguments()
        if let from = filter.from {
            conditions.append("started_at >= ?")
            arguments += [from]
        }
        if let to = filter.to {
            conditions.append("started_at < ?")
            arguments += [to]
        }
        let named = try filter.rawConditions()
        conditions += named.conditions
        arguments += named.arguments
        // With MAX() as the only aggregate over it, SQLite takes the bare `error` column from the
        // row holding the maximum (sqlite.org/lang_select.html, "bare columns"): the latest message.
        let sql = """
            SELECT outcome, status, provider, model, COUNT(*), MAX(started_at), error FROM usage_events
            WHERE \(conditions.joined(separator: " AND "))
            GROUP BY outcome, status, provider, model
            ORDER BY COUNT(*) DESC, MAX(started_at) DESC, outcome, status, provider, model
            """
        let queryArguments = arguments
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: queryArguments).map { row in
                ErrorGroup(
                    outcome: row[0], status: row[1], provider: row[2], model: row[3], requests: row[4], latestAtMs: row[5],
                    latestError: row[6])
            }
        }
    }
}
