import GRDB
import TollgateCore

extension UsageStore {
    /// Per org, requests started since `sinceMs` and how many of them failed (`error_requests`:
    /// not ok and not refused by Tollgate's own limits). Read through the `started_at` index.
    package func recentFailures(sinceMs: Int64) async throws -> [(org: String, requests: Int64, failed: Int64)] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT org, COUNT(*), SUM(\(UsageSQL.isError)) FROM usage_events WHERE started_at >= ? GROUP BY org",
                arguments: [sinceMs]
            ).map { (org: $0[0], requests: $0[1], failed: $0[2]) }
        }
    }

    /// Per org, the cost (nano-dollars) of the hour starting at `hourStartMs` and of the 7 days
    /// before it, from the per-org hourly rollups (committed events only).
    package func hourlySpend(hourStartMs: Int64) async throws -> [(org: String, hour: Int64, trailingWeek: Int64)] {
        let week = hourStartMs - 7 * RollupGranularity.day.milliseconds
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT org, SUM(CASE WHEN bucket_start = ?1 THEN cost_nanos ELSE 0 END),
                        SUM(CASE WHEN bucket_start < ?1 THEN cost_nanos ELSE 0 END)
                    FROM \(RollupTable.hourlyByOrg.name) WHERE bucket_start >= ?2 AND bucket_start <= ?1 GROUP BY org
                    """,
                arguments: [hourStartMs, week]
            ).map { (org: $0[0], hour: $0[1], trailingWeek: $0[2]) }
        }
    }
}
