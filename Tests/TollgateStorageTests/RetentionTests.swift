import GRDB
import Testing
import TollgateCore
@testable import TollgateStorage

@Suite("Retention: pruning old usage")
struct RetentionTests {
    func count(_ database: TollgateDatabase, _ sql: String) async throws -> Int {
        try await database.pool.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    @Test("deletes exactly the events older than the cut-off, in batches, and leaves the rollups' totals intact")
    func pruneEvents() async throws {
        try await withTemporaryDatabase { database, _ in
            let writer = UsageWriter.manual(database)
            let events = Fixtures.mixedEvents(count: 3_000, days: 6)
            for event in events { writer.record(event) }
            try await writer.flush()
            let store = UsageStore(database: database)
            let before = try await store.summary(filter: StatsFilter())
            let cutoff = Fixtures.day0 + 3 * Fixtures.day + 5 * Fixtures.hour
            let expected = events.filter { $0.startedAtMs < cutoff }.count
            #expect(expected > 0 && expected < events.count)

            let result = try await store.prune(eventsBefore: cutoff, hourlyBefore: nil, dailyBefore: nil, batchSize: 100, pause: .zero)
            #expect(result.events == expected)
            #expect(try await count(database, "SELECT count(*) FROM usage_events") == events.count - expected)
            #expect(try await count(database, "SELECT count(*) FROM usage_events WHERE started_at < \(cutoff)") == 0)
            // Whole days and hours answer from the rollups: unchanged.
            let after = try await store.summary(filter: StatsFilter(from: Fixtures.day0, to: Fixtures.day0 + 6 * Fixtures.day))
            #expect(after.requests == before.requests)
            #expect(after.costNanos == before.costNanos)
            // A rebuild keeps the rollups older than the oldest event left.
            try await store.rebuildRollups()
            let rebuilt = try await store.summary(filter: StatsFilter(from: Fixtures.day0, to: Fixtures.day0 + 6 * Fixtures.day))
            #expect(rebuilt.requests == before.requests)
            #expect(rebuilt.costNanos == before.costNanos)
        }
    }

    @Test("rollups go by their own cut-offs, one bucket per transaction")
    func pruneRollups() async throws {
        try await withTemporaryDatabase { database, _ in
            let writer = UsageWriter.manual(database)
            for event in Fixtures.mixedEvents(count: 500, days: 4) { writer.record(event) }
            try await writer.flush()
            let store = UsageStore(database: database)
            let hourCut = Fixtures.day0 + 2 * Fixtures.day
            let dayCut = Fixtures.day0 + Fixtures.day
            // Every detail level of each granularity (full, per caller, per model, per org) goes by the same cut-off.
            var oldHourly = 0
            var oldDaily = 0
            for table in RollupTable.all {
                let cut = table.granularity == .hour ? hourCut : dayCut
                let old = try await count(database, "SELECT count(*) FROM \(table.name) WHERE bucket_start < \(cut)")
                #expect(old > 0, "\(table.name)")
                if table.granularity == .hour { oldHourly += old } else { oldDaily += old }
            }
            let result = try await store.prune(eventsBefore: nil, hourlyBefore: hourCut, dailyBefore: dayCut, pause: .zero)
            #expect(result.events == 0)
            #expect(result.hourlyRows == oldHourly && oldHourly > 0)
            #expect(result.dailyRows == oldDaily && oldDaily > 0)
            #expect(try await count(database, "SELECT count(*) FROM rollup_hourly WHERE bucket_start < \(hourCut)") == 0)
            for table in RollupTable.all {
                let cut = table.granularity == .hour ? hourCut : dayCut
                #expect(try await count(database, "SELECT count(*) FROM \(table.name) WHERE bucket_start < \(cut)") == 0)
            }
            #expect(try await count(database, "SELECT count(*) FROM rollup_daily WHERE bucket_start >= \(dayCut)") > 0)
            #expect(try await count(database, "SELECT count(*) FROM usage_events") == 500)
        }
    }
}
