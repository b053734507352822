import CSQLite
import Foundation
import GRDB
import Logging

/// The usage database: one SQLite file in WAL mode, opened through a GRDB `DatabasePool` (one
/// serialized writer, concurrent readers), created and migrated on open (SPEC §1).
///
/// Every connection gets `synchronous = NORMAL` (durable at each WAL checkpoint; a power cut may
/// lose the last commits but never corrupts), a busy timeout so the `tollgate db …` commands and a
/// running server can share the file, foreign keys, and the latency-histogram SQL functions.
package struct TollgateDatabase: Sendable {
    /// How long a connection waits for another process's lock before failing.
    package static let busyTimeout: TimeInterval = 5

    /// The pool every store and writer shares.
    package let pool: DatabasePool
    /// The file's path as given.
    package let path: String

    /// Opens (creating if needed) the database at `path` and applies every migration not yet applied.
    package static func open(
        at path: String, logger: Logger = Logger(label: "tollgate.storage")
    ) throws -> TollgateDatabase {
        if !sqliteConfigured {
            logger.debug("SQLite was initialized before Tollgate configured it; connections keep the library's threading mode")
        }
        // SPEC §12's PostgreSQL URLs are not served by this build: refuse them rather than create a
        // SQLite file named after the URL (and never echo it: it may hold a password).
        let scheme = path.prefix { $0 != ":" }.lowercased()
        if path.contains("://"), ["postgres", "postgresql"].contains(scheme) {
            throw StorageError(
                .openFailed,
                "\(scheme):// database URLs are not supported by this build yet; give TOLLGATE_DB (or --db) a SQLite file path")
        }
        let pool: DatabasePool
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            pool = try DatabasePool(path: path, configuration: configuration())
        } catch {
            throw StorageError(.openFailed, "cannot open the database at \(path)", underlying: error)
        }
        let database = TollgateDatabase(pool: pool, path: path)
        try database.migrate(logger: logger)
        return database
    }

    /// SQLite's process-wide settings, made once before the first connection opens: multi-thread
    /// mode (GRDB never shares a connection between threads, so the per-call connection mutex is
    /// pure cost) and no global memory statistics (which lock a process-wide mutex on every
    /// allocation). Together they were about 6 % of the usage writer's CPU. False if SQLite had
    /// already started, when neither can change.
    private static let sqliteConfigured: Bool = {
        let threading = tollgate_sqlite3_config_multithread()
        let memory = tollgate_sqlite3_config_no_memstatus()
        return threading == SQLITE_OK && memory == SQLITE_OK
    }()

    /// The GRDB configuration of every connection.
    static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.label = "tollgate"
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // 8 MiB page cache per connection: the writer's index pages stay hot under load.
            try db.execute(sql: "PRAGMA cache_size = -8192")
            LatencyHistogram.registerFunctions(in: db)
        }
        return configuration
    }

    /// Applies every migration not yet applied, each in its own transaction.
    func migrate(logger: Logger) throws {
        let migrations = SchemaMigration.storage
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.name) { db in try db.execute(sql: migration.sql) }
        }
        let pending: [String]
        do {
            let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
            pending = migrations.map(\.name).filter { !applied.contains($0) }
            try migrator.migrate(pool)
        } catch {
            throw StorageError(.migrationFailed, "cannot migrate the database at \(path)", underlying: error)
        }
        if !pending.isEmpty {
            logger.info("database migrated", metadata: ["path": "\(path)", "applied": "\(pending.joined(separator: ","))"])
        }
    }

    /// Names of the migrations applied to the file, in the order they were applied.
    package func appliedMigrations() async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
        }
    }

    /// Proves the database takes writes (for `/readyz`): commits a one-row write through the same
    /// serialized writer the usage writer uses. Throws `StorageError(.notWritable)` otherwise.
    package func checkWritable(now: Date = Date()) async throws {
        let milliseconds = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        do {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO storage_probe (id, checked_at) VALUES (1, ?)
                        ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at
                        """,
                    arguments: [milliseconds])
            }
        } catch {
            throw StorageError(.notWritable, "the database at \(path) does not take writes", underlying: error)
        }
    }
}
