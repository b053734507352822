import ArgumentParser
import Foundation
import TollgateServer
import TollgateStorage

/// `tollgate stats`: the `/admin/stats` summary, or with `--by` the breakdown, read from the
/// database directly.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show usage, tokens, dollars and latency (a table, or --format json).",
        discussion: "With --by, one row per org, team, user, key, provider, model or tag.<name>, biggest first.")

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var filters: StatsFilterOptions
    @Option(help: "Break down by org, team, user, key, provider, model or tag.<name>.") var by: String?
    @Option(help: "With --by: order by cost, requests or tokens.") var order: String = "cost"
    @Option(help: "With --by: at most this many rows.") var limit: Int = 20
    @Option(help: "table or json.") var format: OutputFormat = .table

    func run() async throws {
        var query = filters.query
        let store = UsageStore(database: try database.open())
        do {
            guard let by else {
                let summary = try await AdminStats.summary(
                    store: store, query: query.map { (key: Substring($0.key), value: Substring($0.value)) })
                if format == .json { return print(summary.string) }
                // The same members as the JSON, money as its exact decimal digits.
                for (name, json) in summary.members {
                    let value = json.hasPrefix("\"") ? String(json.dropFirst().dropLast()) : json
                    print(name.padding(toLength: 26, withPad: " ", startingAt: 0) + value)
                }
                return
            }
            query["by"] = by
            query["order"] = order
            query["limit"] = String(limit)
            let answer = try await AdminAnalytics.breakdown(store: store, query: query, by: .master)
            try AccessCommandRunner.print(
                answer, format: format,
                columns: ["group", "requests", "input_tokens", "output_tokens", "cost_usd", "savings_usd", "p95_latency_ms"])
        } catch let error as AdminStats.InvalidQuery {
            throw ValidationError(error.message)
        }
    }
}
