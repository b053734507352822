import ArgumentParser
import Foundation
import Logging
import TollgateServer
import TollgateStorage

/// Options every command that opens the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(help: ArgumentHelp("SQLite database path (default TOLLGATE_DB, else ./tollgate.db).", valueName: "path"))
    var db: String?

    @Option(help: ArgumentHelp("YAML config file, for its db setting.", valueName: "file"))
    var config: String?

    func open() throws -> TollgateDatabase {
        let settings: TollgateConfig
        do {
            settings = try ConfigLoader.load(
                flags: .init(config: config, db: db), environment: ProcessInfo.processInfo.environment)
        } catch let error as ConfigError {
            throw ValidationError(error.message)
        }
        do {
            // Warnings only: a command's own output (or its one-line error) comes first.
            var logger = Logger(label: "tollgate")
            logger.logLevel = .warning
            return try TollgateDatabase.open(at: settings.databasePath, logger: logger)
        } catch {
            throw ValidationError("Cannot open the database at \(settings.databasePath): \(error)")
        }
    }
}

/// `tollgate db migrate|rebuild-rollups`: maintenance on the database, with or without a running server.
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Database maintenance: migrate, rebuild rollups.",
        subcommands: [Migrate.self, RebuildRollups.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the database if needed and apply every migration.")
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let database = try options.open()
            let applied = try await database.appliedMigrations()
            print("\(database.path): migrations applied: \(applied.joined(separator: ", "))")
        }
    }

    struct RebuildRollups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rebuild-rollups",
            abstract: "Recompute the hourly and daily rollups from the usage events, in one transaction.")
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let database = try options.open()
            let started = ContinuousClock.now
            let events = try await UsageStore(database: database).rebuildRollups()
            print("rebuilt rollups from \(events) usage events in \(ContinuousClock.now - started)")
        }
    }
}
