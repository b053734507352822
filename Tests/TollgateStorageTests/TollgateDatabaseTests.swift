import Foundation
import GRDB
import Testing

@testable import TollgateStorage

@Suite("Opening, migrating and checking the database file")
struct TollgateDatabaseTests {
    @Test("a fresh file is created and gets every named migration, in order")
    func migratesFreshFile() async throws {
        try await withTemporaryDatabase { database, directory in
            #expect(FileManager.default.fileExists(atPath: directory.databasePath))
            #expect(try await database.appliedMigrations() == SchemaMigration.storage.map(\.name))
            let tables = try await database.pool.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            }
            for table in ["usage_events", "rollup_hourly", "rollup_daily", "rollup_hourly_model", "rollup_daily_model", "rollup_hourly_caller", "rollup_daily_caller", "rollup_hourly_by_org", "rollup_daily_by_org", "storage_probe"] {
                #expect(tables.contains(table))
            }
            let columns = try await database.pool.read { db in try db.columns(in: "usage_events").map(\.name) }
            #expect(columns.contains("request_id") && columns.contains("cost_nanos") && columns.contains("pricing_version"))
        }
    }

    @Test("connections run in WAL mode with synchronous NORMAL, foreign keys and a busy timeout")
    func connectionSettings() async throws {
        try await withTemporaryDatabase { database, _ in
            let (journal, synchronous, foreignKeys, busy) = try await database.pool.write { db in
                (
                    try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                    try Int.fetchOne(db, sql: "PRAGMA synchronous"),
                    try Int.fetchOne(db, sql: "PRAGMA foreign_keys"),
                    try Int.fetchOne(db, sql: "PRAGMA busy_timeout")
                )
            }
            #expect(journal == "wal")
            #expect(synchronous == 1)
            #expect(foreignKeys == 1)
            #expect(busy == 5000)
        }
    }

    @Test("reopening a migrated file applies nothing twice and keeps its data")
    func reopenKeepsData() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        do {
            let database = try TollgateDatabase.open(at: directory.databasePath)
            let writer = UsageWriter.manual(database)
            writer.record(Fixtures.event("r1", costNanos: 7))
            writer.record(Fixtures.event("r2", costNanos: 11))
            try await writer.flush()
        }
        let reopened = try TollgateDatabase.open(at: directory.databasePath)
        #expect(try await reopened.appliedMigrations() == SchemaMigration.storage.map(\.name))
        let store = UsageStore(database: reopened)
        #expect(try await store.event(requestID: "r1") == Fixtures.event("r1", costNanos: 7))
        #expect(try await store.summary(filter: StatsFilter()).costNanos == 18)
    }

    @Test("v3-rollup-model backfills the per-model rollups of an existing file from its full rollups, exactly")
    func perModelBackfill() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let events = Fixtures.mixedEvents(count: 2_500, days: 3)
        func perModelRows(_ database: TollgateDatabase) throws -> [[DatabaseValue]] {
            try database.pool.read { db in
                try ["rollup_hourly_model", "rollup_daily_model"].flatMap { table in
                    try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1, 2, 3, 4").map { Array($0.databaseValues) }
                }
            }
        }
        let written: [[DatabaseValue]]
        do {
            let database = try TollgateDatabase.open(at: directory.databasePath)
            let writer = UsageWriter.manual(database)
            for (index, event) in events.enumerated() {
                writer.record(event)
                if index % 400 == 399 { try await writer.flush() }
            }
            try await writer.flush()
            written = try perModelRows(database)
            // Back to the file as v2-access left it: full rollups only.
            try await database.pool.write { db in
                try db.execute(
                    sql: """
                        DROP TABLE rollup_hourly_model;
                        DROP TABLE rollup_daily_model;
                        DELETE FROM grdb_migrations WHERE identifier = 'v3-rollup-model';
                        """)
            }
        }
        #expect(!written.isEmpty)
        let upgraded = try TollgateDatabase.open(at: directory.databasePath)
        #expect(try await upgraded.appliedMigrations().last == "v3-rollup-model")
        #expect(try perModelRows(upgraded) == written)
        let store = UsageStore(database: upgraded)
        let filter = StatsFilter(from: Fixtures.day0 + 5 * Fixtures.hour, to: Fixtures.day0 + 2 * Fixtures.day + 3 * Fixtures.hour)
        #expect(try await store.summary(filter: filter) == store.rawSummary(filter: filter))
    }

    /// Writes mixed events into a new file in `directory`, then takes it back to before `migration`
    /// (its `tables` dropped, its record forgotten) and reopens it, which applies it again. Returns
    /// the tables' rows as the writer made them and as the migration backfilled them.
    private func backfill(
        _ migration: String, tables: [String], seed: UInt64, in directory: TemporaryDirectory
    ) async throws -> (written: [[DatabaseValue]], backfilled: [[DatabaseValue]], upgraded: TollgateDatabase) {
        func rows(_ database: TollgateDatabase) throws -> [[DatabaseValue]] {
            try database.pool.read { db in
                try tables.flatMap { table in
                    try Row.fetchAll(db, sql: "SELECT '\(table)', * FROM \(table) ORDER BY 2, 3, 4, 5, 6").map { Array($0.databaseValues) }
                }
            }
        }
        let written: [[DatabaseValue]]
        do {
            let database = try TollgateDatabase.open(at: directory.databasePath)
            let writer = UsageWriter.manual(database)
            for (index, event) in Fixtures.mixedEvents(count: 2_500, days: 3, seed: seed).enumerated() {
                writer.record(event)
                if index % 400 == 399 { try await writer.flush() }
            }
            try await writer.flush()
            written = try rows(database)
            try await database.pool.write { db in
                for table in tables { try db.execute(sql: "DROP TABLE \(table)") }
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = ?", arguments: [migration])
            }
        }
        let upgraded = try TollgateDatabase.open(at: directory.databasePath)
        #expect(try await upgraded.appliedMigrations().last == migration)
        return (written, try rows(upgraded), upgraded)
    }

    @Test("v8-rollup-dimensions backfills the per-department and per-outcome rollups of an existing file from its events, exactly")
    func rollupDimensionsBackfill() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = try await backfill(
            "v8-rollup-dimensions", tables: ["rollup_hourly_department", "rollup_daily_department", "rollup_hourly_outcome", "rollup_daily_outcome"],
            seed: 23, in: directory)
        #expect(result.written.count > 100)
        #expect(result.backfilled == result.written)
    }

    @Test("v4-rollup-levels backfills the per-caller and per-org rollups of an existing file from its rollups, exactly")
    func rollupLevelsBackfill() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (written, backfilled, upgraded) = try await backfill(
            "v4-rollup-levels", tables: ["rollup_hourly_caller", "rollup_daily_caller", "rollup_hourly_by_org", "rollup_daily_by_org"],
            seed: 11, in: directory)
        #expect(written.count > 100)
        #expect(backfilled == written)
        let store = UsageStore(database: upgraded)
        let filter = StatsFilter(from: Fixtures.day0 + 5 * Fixtures.hour, to: Fixtures.day0 + 2 * Fixtures.day + 3 * Fixtures.hour)
        #expect(try await store.summaries(filter: filter, groupBy: [.user]) == store.summaries(filter: filter, groupBy: [.user], forceRaw: true))
        #expect(try await store.summaries(filter: filter, granularity: .hour) == store.summaries(filter: filter, granularity: .hour, forceRaw: true))
    }

    @Test("the readiness check passes on a writable file and fails on a read-only one")
    func readiness() async throws {
        try await withTemporaryDatabase { database, directory in
            try await database.checkWritable()
            var configuration = Configuration()
            configuration.readonly = true
            let readOnly = TollgateDatabase(pool: try DatabasePool(path: directory.databasePath, configuration: configuration), path: directory.databasePath)
            await #expect(throws: StorageError.self) { try await readOnly.checkWritable() }
        }
    }

    @Test("a path whose directory cannot be created fails with openFailed")
    func openFailure() throws {
        #expect {
            _ = try TollgateDatabase.open(at: "/proc/tollgate-cannot-exist/tollgate.db")
        } throws: { error in
            (error as? StorageError)?.code == .openFailed
        }
    }

    @Test("a PostgreSQL URL is refused without creating a file or echoing its password")
    func postgresURLRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let previous = FileManager.default.currentDirectoryPath
        #expect(FileManager.default.changeCurrentDirectoryPath(directory.url.path))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        for url in ["postgres://tollgate:s3cret@127.0.0.1:5432/tollgate", "PostgreSQL://u:s3cret@db/x"] {
            #expect {
                _ = try TollgateDatabase.open(at: url)
            } throws: { error in
                (error as? StorageError)?.code == .openFailed && !"\(error)".contains("s3cret") && "\(error)".contains("not supported")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
    }
}
