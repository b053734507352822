import ArgumentParser
import Foundation
import TollgateServer
import TollgateStorage

/// `tollgate stats`: the `/admin/stats` summary, read from the database directly.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show usage, tokens, dollars and latency (a table, or --format json).")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Start: ISO-8601 or relative (24h, 7d). Default: 30 days ago.") var from: String?
    @Option(help: "End: ISO-8601 or relative. Default: now.") var to: String?
    @Option(help: "Only this organization.") var org: String?
    @Option(help: "Only this provider.") var provider: String?
    @Option(help: "Only this model.") var model: String?
    @Option(help: "Only this key id.") var key: String?
    @Option(help: "table or json.") var format: String = "table"

    func run() async throws {
        guard format == "table" || format == "json" else { throw ValidationError("--format must be table or json.") }
        var query: [(key: Substring, value: Substring)] = []
        for (name, value) in [("from", from), ("to", to), ("org", org), ("provider", provider), ("model", model), ("key", key)] {
            if let value { query.append((Substring(name), Substring(value))) }
        }
        let db = try database.open()
        let summary: JSONObject
        do {
            summary = try await AdminStats.summary(store: UsageStore(database: db), query: query)
        } catch let error as AdminStats.InvalidQuery {
            throw ValidationError(error.message)
        }
        if format == "json" {
            print(summary.string)
            return
        }
        // The same members as the JSON, money as its exact decimal digits.
        for (name, json) in summary.members {
            let value = json.hasPrefix("\"") ? String(json.dropFirst().dropLast()) : json
            print(name.padding(toLength: 26, withPad: " ", startingAt: 0) + value)
        }
    }
}
