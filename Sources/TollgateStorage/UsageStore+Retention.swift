import Foundation
import GRDB

/// Retention (SPEC defaults: raw events 90 days, hourly rollups 90 days, daily rollups 730 days).
extension UsageStore {
    /// What one prune deleted.
    package struct PruneResult: Sendable, Equatable {
        package var events = 0
        package var hourlyRows = 0
        package var dailyRows = 0

        package init() {}
    }

    /// Deletes usage events started before `eventsBefore`, hourly rollups of hours before
    /// `hourlyBefore` and daily rollups of days before `dailyBefore` (Unix ms; nil keeps all).
    ///
    /// Small transactions — `batchSize` events, or one rollup bucket, each — with a rest between
    /// them of at least `pause` and `restFactor` times the batch's own time, so the usage writer
    /// (which shares SQLite's single write lock) never waits long. Events are deleted on an
    /// idle-priority thread, so live requests keep their CPU and their p99. Rollups are deleted
    /// only by their own cut-off: pruning raw events leaves every total the rollups answer intact.
    package func prune(
        eventsBefore: Int64?, hourlyBefore: Int64?, dailyBefore: Int64?, batchSize: Int = 500,
        pause: Duration = .milliseconds(2), restFactor: Double = 1, progress: @escaping @Sendable (PruneResult) -> Void = { _ in }
    ) async throws -> PruneResult {
        var result = PruneResult()
        if let cutoff = eventsBefore {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO retention_state (id, events_pruned_before) VALUES (1, ?)
                        ON CONFLICT (id) DO UPDATE SET events_pruned_before = max(events_pruned_before, excluded.events_pruned_before)
                        """,
                    arguments: [cutoff])
            }
            // The deletes run on an idle-priority thread (`BackgroundThread.maintenance`): on a busy
            // machine they take only CPU that requests leave unused.
            let pool = self.pool
            result.events = try await BackgroundThread.maintenance.run { cancellation in
                var deletedTotal = 0
                while true {
                    if cancellation.isCancelled { throw CancellationError() }
                    let started = ContinuousClock.now
                    let deleted = try pool.write { db in
                        try db.execute(
                            sql: "DELETE FROM usage_events WHERE rowid IN (SELECT rowid FROM usage_events WHERE started_at < ? LIMIT ?)",
                            arguments: [cutoff, batchSize])
                        return db.changesCount
                    }
                    deletedTotal += deleted
                    var running = PruneResult()  // events go first: nothing else is counted yet
                    running.events = deletedTotal
                    progress(running)
                    if deleted < batchSize { return deletedTotal }
                    // Rest `restFactor` times as long as the batch took, so the usage writer (which
                    // shares SQLite's single write lock) gets its turns between batches.
                    let rest = max(pause, (ContinuousClock.now - started) * restFactor)
                    Thread.sleep(forTimeInterval: Double(rest.components.seconds) + Double(rest.components.attoseconds) * 1e-18)
                }
            }
        }
        let tables = RollupTable.all.map { ($0.name, $0.granularity) } + TagRollupTable.all.map { ($0.name, $0.granularity) }
        for (table, granularity) in tables {
            let (cutoff, keyPath) = granularity == .hour
                ? (hourlyBefore, \PruneResult.hourlyRows) : (dailyBefore, \PruneResult.dailyRows)
            guard let cutoff else { continue }
            while true {
                let deleted = try await pool.write { db in
                    try db.execute(
                        sql: "DELETE FROM \(table) WHERE bucket_start = (SELECT min(bucket_start) FROM \(table) WHERE bucket_start < ?)",
                        arguments: [cutoff])
                    return db.changesCount
                }
                if deleted == 0 { break }
                result[keyPath: keyPath] += deleted
                progress(result)
                try await Task.sleep(for: pause)
            }
        }
        return result
    }
}
