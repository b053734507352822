import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TollgateCore

@testable import TollgateStorage

@Suite("Usage writer: batching, idempotency, shutdown")
struct UsageWriterTests {
    private func count(_ database: TollgateDatabase, _ sql: String = "SELECT COUNT(*) FROM usage_events") async throws -> Int {
        try await database.pool.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    @Test("record only queues; flush commits every queued event in one batch")
    func batches() async throws {
        try await withTemporaryDatabase { database, _ in
            let writer = UsageWriter.manual(database)
            for event in Fixtures.mixedEvents(count: 300) { writer.record(event) }
            #expect(writer.metrics.pending == 300)
            #expect(try await count(database) == 0)
            try await writer.flush()
            #expect(try await count(database) == 300)
            let metrics = writer.metrics
            #expect(metrics.pending == 0)
            #expect(metrics.written == 300)
            #expect(metrics.batches == 1)
            #expect(metrics.lastBatchSize == 300)
            #expect(metrics.recorded == 300)
        }
    }

    @Test("a request id recorded twice is stored once and rolled up once, in one batch or across two")
    func deduplicates() async throws {
        try await withTemporaryDatabase { database, _ in
            let writer = UsageWriter.manual(database)
            writer.record(Fixtures.event("dup", costNanos: 1_000))
            writer.record(Fixtures.event("dup", costNanos: 1_000))
            try await writer.flush()
            writer.record(Fixtures.event("dup", costNanos: 1_000))
            writer.record(Fixtures.event("other", costNanos: 5))
            try await writer.flush()

            #expect(try await count(database) == 2)
            #expect(writer.metrics.written == 2)
            #expect(writer.metrics.duplicates == 2)
            let store = UsageStore(database: database)
            let summary = try await store.summary(filter: StatsFilter())
            #expect(summary.requests == 2)
            #expect(summary.costNanos == 1_005)
            #expect(try await count(database, "SELECT SUM(requests) FROM rollup_hourly") == 2)
            #expect(try await count(database, "SELECT SUM(requests) FROM rollup_daily") == 2)
        }
    }

    @Test("reaching the batch size commits without waiting for the flush interval")
    func batchSizeTriggersCommit() async throws {
        try await withTemporaryDatabase { database, _ in
            let writer = UsageWriter(
                database: database, configuration: .init(flushInterval: .seconds(3600), batchSize: 50))
            let running = Task { try await writer.run() }
            defer { running.cancel() }
            for event in Fixtures.mixedEvents(count: 120) { writer.record(event) }
            let deadline = ContinuousClock.now + .seconds(10)
            while try await count(database) < 100, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(try await count(database) >= 100)
        }
    }

    @Test("after a commit, events that came in during it wait for the next tick or a full batch")
    func noChasingAfterCommit() async throws {
        try await withTemporaryDatabase { database, directory in
            let writer = UsageWriter(
                database: database, configuration: .init(flushInterval: .seconds(3600), batchSize: 5))
            let running = Task { try await writer.run() }
            defer { running.cancel() }
            // A second connection holds the write lock on a thread of its own until `release`, so
            // the writer's commit waits on it.
            let blocker = try DatabaseQueue(path: directory.databasePath)
            let locked = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
            Thread {
                try? blocker.inTransaction(.immediate) { _ in
                    locked.signal()
                    release.wait()
                    return .commit
                }
            }.start()
            locked.wait()
            let events = Fixtures.mixedEvents(count: 8)
            for event in events.prefix(5) { writer.record(event) }  // a full batch: a drain takes it
            try await eventually { writer.metrics.inFlight == 5 }
            #expect(writer.metrics.pending == 5)  // in a commit, not yet written: still pending
            for event in events.suffix(3) { writer.record(event) }  // trickle in during its commit
            release.signal()
            try await eventually { writer.metrics.written == 5 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(writer.metrics.written == 5)
            #expect(writer.metrics.pending == 3)
            #expect(writer.metrics.batches == 1)
            try await writer.flush()
            #expect(try await count(database) == 8)
        }
    }

    /// Polls `condition` every 5 ms for up to 10 s; a test that needs it then checks it.
    private func eventually(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(condition())
    }

    @Test("the flush interval commits a lone event")
    func intervalTriggersCommit() async throws {
        try await withTemporaryDatabase { database, _ in
            let writer = UsageWriter(database: database, configuration: .init(flushInterval: .milliseconds(20)))
            let running = Task { try await writer.run() }
            defer { running.cancel() }
            writer.record(Fixtures.event("lonely"))
            let deadline = ContinuousClock.now + .seconds(10)
            while try await count(database) < 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(try await count(database) == 1)
            #expect(writer.metrics.lastFlushLag < .seconds(5))
        }
    }

    @Test("graceful shutdown of the service group commits every pending event before run returns")
    func gracefulShutdownFlushes() async throws {
        try await withTemporaryDatabase { database, _ in
            let writer = UsageWriter.manual(database)
            let group = ServiceGroup(services: [writer], logger: Logger(label: "test"))
            let running = Task { try await group.run() }
            let events = Fixtures.mixedEvents(count: 2_000)
            for event in events { writer.record(event) }
            #expect(writer.metrics.pending == 2_000)
            await group.triggerGracefulShutdown()
            try await running.value
            #expect(try await count(database) == 2_000)
            #expect(writer.metrics.pending == 0)
        }
    }

    @Test("cancelling the service still commits every pending event")
    func cancellationFlushes() async throws {
        try await withTemporaryDatabase { database, _ in
            let writer = UsageWriter.manual(database)
            let running = Task { try await writer.run() }
            for event in Fixtures.mixedEvents(count: 500) { writer.record(event) }
            try await Task.sleep(for: .milliseconds(50))
            running.cancel()
            try await running.value
            #expect(try await count(database) == 500)
        }
    }

    @Test("a batch that fails commits nothing, and its events are kept and retried")
    func failedBatchIsRetried() async throws {
        try await withTemporaryDatabase { database, _ in
            let writer = UsageWriter.manual(database)
            // A temporary trigger on the pool's single writer connection makes the next insert fail.
            try await database.pool.write { db in
                try db.execute(sql: "CREATE TEMP TRIGGER fail_once BEFORE INSERT ON usage_events BEGIN SELECT RAISE(ABORT, 'injected'); END")
            }
            writer.record(Fixtures.event("x", costNanos: 3))
            await #expect(throws: StorageError.self) { try await writer.flush() }
            #expect(try await count(database) == 0)
            #expect(try await count(database, "SELECT COUNT(*) FROM rollup_hourly") == 0)
            #expect(writer.metrics.pending == 1)
            #expect(writer.metrics.failedBatches == 1)
            try await database.pool.write { db in try db.execute(sql: "DROP TRIGGER temp.fail_once") }
            try await writer.flush()
            #expect(try await count(database) == 1)
            #expect(try await UsageStore(database: database).summary(filter: StatsFilter()).costNanos == 3)
        }
    }

    @Test("concurrent producers lose no event")
    func concurrentProducers() async throws {
        try await withTemporaryDatabase { database, _ in
            let writer = UsageWriter(database: database, configuration: .init(flushInterval: .milliseconds(5), batchSize: 64))
            let running = Task { try await writer.run() }
            await withTaskGroup(of: Void.self) { group in
                for producer in 0..<4 {
                    group.addTask {
                        for event in Fixtures.mixedEvents(count: 1_000, seed: UInt64(producer), idPrefix: "p\(producer)") {
                            writer.record(event)
                        }
                    }
                }
            }
            try await writer.flush()
            #expect(try await count(database) == 4_000)
            running.cancel()
            try await running.value
        }
    }

    @Test("beyond maxPending, record drops and counts instead of growing without bound")
    func boundedQueue() async throws {
        try await withTemporaryDatabase { database, _ in
            let writer = UsageWriter(
                database: database, configuration: .init(flushInterval: .seconds(3600), batchSize: 1_000, maxPending: 10))
            for event in Fixtures.mixedEvents(count: 15) { writer.record(event) }
            #expect(writer.metrics.pending == 10)
            #expect(writer.metrics.dropped == 5)
            try await writer.flush()
            #expect(try await count(database) == 10)
        }
    }

    @Test("TOLLGATE_FLUSH_MS sets the flush interval")
    func configurationFromEnvironment() {
        #expect(UsageWriter.Configuration(environment: ["TOLLGATE_FLUSH_MS": "250"]).flushInterval == .milliseconds(250))
        #expect(UsageWriter.Configuration(environment: ["TOLLGATE_FLUSH_MS": "nope"]).flushInterval == .milliseconds(100))
        #expect(UsageWriter.Configuration(environment: [:]).batchSize == 512)
    }
}
