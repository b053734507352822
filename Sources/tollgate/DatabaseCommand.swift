import ArgumentParser
import Foundation
import Logging
import TollgateServer
import TollgateCore
import TollgateStorage

/// Options every command that opens the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(help: ArgumentHelp("SQLite database path (default TOLLGATE_DB, else ./tollgate.db).", valueName: "path"))
    var db: String?

    @Option(help: ArgumentHelp("YAML config file, for its db setting.", valueName: "file"))
    var config: String?

    /// The merged settings (flags, environment, config file).
    func settings() throws -> TollgateConfig {
        do {
            return try ConfigLoader.load(flags: .init(config: config, db: db), environment: ProcessInfo.processInfo.environment)
        } catch let error as ConfigError {
            throw ValidationError(error.message)
        }
    }

    func open() throws -> TollgateDatabase {
        let settings = try settings()
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
        abstract: "Database maintenance: migrate, rebuild rollups, reprice, prune old usage.",
        subcommands: [Migrate.self, RebuildRollups.self, Reprice.self, Prune.self])

    struct Reprice: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute a period's cost with the current pricing file and say what changed.",
            discussion: "Events keep their tokens, so their money can be recomputed exactly; the period's rollups (and budget spend) follow. Use --dry-run to see the change first.")
        @OptionGroup var options: DatabaseOptions
        @Option(help: "Start: ISO-8601 or relative (30d).") var from: String
        @Option(help: "End: ISO-8601 or relative. Default: now.") var to: String?
        @Option(help: "Pricing file (default: the configured one, else ./pricing.json, else built in).") var pricing: String?
        @Flag(name: .customLong("dry-run"), help: "Report the change without writing it.") var dryRun = false

        func run() async throws {
            let settings = try options.settings()
            let range: (fromMs: Int64, toMs: Int64)
            do {
                range = try TimeRange.parse(from: from, to: to)
            } catch {
                throw ValidationError(error.message)
            }
            let meter = Meter(pricing: try PricingStore.load(path: pricing ?? settings.pricingPath))
            let database = try options.open()
            let markups = Dictionary(
                try await AccessStore(database: database).orgs().map { ($0.id, $0.markup) }, uniquingKeysWith: { a, _ in a })
            let result = try await UsageStore(database: database).reprice(from: range.fromMs, to: range.toMs, dryRun: dryRun) {
                meter.reprice($0, markup: markups[$0.org] ?? .none)
            }
            let version = meter.pricing.current.version
            print("\(dryRun ? "would reprice" : "repriced") \(result.changed) of \(result.examined) events with pricing \(version): cost $\(Money.decimalString(result.costBeforeNanos)) → $\(Money.decimalString(result.costAfterNanos))")
            for (model, change) in result.byModel.sorted(by: { abs($0.value.after - $0.value.before) > abs($1.value.after - $1.value.before) }).prefix(20) {
                print("  \(model): \(change.events) events, $\(Money.decimalString(change.before)) → $\(Money.decimalString(change.after))")
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete usage older than the retention settings (raw events, hourly and daily rollups).",
            discussion: "Defaults come from the config (retention.*; SPEC: 90, 90 and 730 days). 0 keeps forever. Small transactions: safe while a server runs.")
        @OptionGroup var options: DatabaseOptions
        @Option(name: .customLong("events-days"), help: "Keep raw events this many days.") var eventsDays: Int?
        @Option(name: .customLong("hourly-days"), help: "Keep hourly rollups this many days.") var hourlyDays: Int?
        @Option(name: .customLong("daily-days"), help: "Keep daily rollups this many days.") var dailyDays: Int?

        func run() async throws {
            var retention = try options.settings().retention
            if let eventsDays { retention.eventsDays = eventsDays }
            if let hourlyDays { retention.hourlyDays = hourlyDays }
            if let dailyDays { retention.dailyDays = dailyDays }
            for (flag, days) in [("--events-days", retention.eventsDays), ("--hourly-days", retention.hourlyDays), ("--daily-days", retention.dailyDays)]
            where days < 0 {
                throw ValidationError("\(flag) must be 0 (keep forever) or more, got \(days).")
            }
            let cut = retention.cutoffs(nowMs: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
            let started = ContinuousClock.now
            let result = try await UsageStore(database: try options.open()).prune(
                eventsBefore: cut.events, hourlyBefore: cut.hourly, dailyBefore: cut.daily
            ) { progress in
                FileHandle.standardError.write(Data("\rdeleted \(progress.events) events, \(progress.hourlyRows) hourly and \(progress.dailyRows) daily rollup rows…".utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            print("deleted \(result.events) events (kept \(retention.eventsDays) days), \(result.hourlyRows) hourly rollup rows (kept \(retention.hourlyDays) days), \(result.dailyRows) daily rollup rows (kept \(retention.dailyDays) days) in \(ContinuousClock.now - started)")
        }
    }

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
