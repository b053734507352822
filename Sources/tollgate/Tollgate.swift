import ArgumentParser
import Foundation
import Logging
import TollgateServer

/// The `tollgate` command: parse arguments, build, run.
@main
struct Tollgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "An LLM cost-tracking reverse proxy: point your SDK's base URL at it and see who spent what.",
        discussion: """
            Start the proxy with `tollgate serve`, then point an SDK at it:
              OpenAI:    base_url = http://127.0.0.1:8080/openai/v1
              Anthropic: base_url = http://127.0.0.1:8080/anthropic
              Gemini:    base_url = http://127.0.0.1:8080/gemini
            Settings come from flags, then TOLLGATE_* environment variables, then a YAML config
            file (--config or TOLLGATE_CONFIG), then defaults. See README.md and docs/.
            """,
        subcommands: [
            Serve.self, KeysCommand.self, OrgsCommand.self, BudgetsCommand.self, StatsCommand.self, ExportCommand.self, CacheCommand.self,
            DatabaseCommand.self, PricingCommand.self,
        ],
        defaultSubcommand: nil
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the proxy (default 127.0.0.1:8080, database ./tollgate.db).",
        discussion: """
            With no flags and no config: listens on 127.0.0.1:8080, keeps usage in ./tollgate.db
            (created and migrated on start), prices from ./pricing.json if present else the copy
            built in, forwards to the providers' public URLs, accepts the clients' own provider keys.
            Point a provider elsewhere with TOLLGATE_<PROVIDER>_BASE_URL (e.g.
            TOLLGATE_OPENAI_BASE_URL=http://127.0.0.1:9000). SIGTERM or Ctrl-C drains in-flight
            requests (up to shutdown_timeout, 30 s) and exits 0.
            """
    )

    @Option(help: ArgumentHelp("Address to listen on, host:port.", valueName: "host:port"))
    var listen: String?

    @Option(help: ArgumentHelp("YAML config file (see deploy/tollgate.example.yaml).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("SQLite database path.", valueName: "path"))
    var db: String?

    @Option(help: ArgumentHelp("Pricing file (default ./pricing.json, else the built-in copy).", valueName: "file"))
    var pricing: String?

    func run() async throws {
        let settings: TollgateConfig
        do {
            settings = try ConfigLoader.load(
                flags: .init(listen: listen, config: config, db: db, pricing: pricing),
                environment: ProcessInfo.processInfo.environment)
        } catch let error as ConfigError {
            throw ValidationError(error.message)
        }
        let (level, format) = (settings.logLevel, settings.logFormat)
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
        let logger = Logger(label: "tollgate")
        let service = try await buildTollgate(settings, logger: logger)
        service.bootstrapMetricsSystem()
        try await service.run()
        logger.info("Tollgate stopped")
    }
}
