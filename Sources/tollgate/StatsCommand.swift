import ArgumentParser
import Foundation
import TollgateServer
import TollgateStorage

/// `tollgate stats`: the `/admin/stats` summary, or with `--by` the breakdown, read from the
/// database directly through the same functions the admin API answers with.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show usage, tokens, dollars and latency (a table, or --format json).",
        discussion: "With --by, one row per value of that dimension (org, team, user, key, provider, model, department, session, endpoint, outcome, status or tag.<name>), biggest first.")

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var filters: StatsFilterOptions
    @Option(help: "Break down by org, team, user, key, provider, model, department, session, endpoint, outcome, status or tag.<name>.") var by: String?
    @Option(help: "With --by: order by cost, requests or tokens.") var order: BreakdownOrder = .cost
    @Option(help: "With --by: at most this many rows.") var limit: Int = 20
    @Option(help: "table or json.") var format: OutputFormat = .table

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1.") }
    }

    func run() async throws {
        let query = try filters.query()
        let stats = AdminStats(database: try database.open())
        do {
            guard let by else {
                let summary = try await stats.summary(SummaryQuery(filters: query), by: .master)
                if format == .json { return print(AdminJSON.string(summary)) }
                // The same members as the JSON, money as its exact decimal digits.
                for (name, json) in AnswerCells.of(summary).sorted(by: { $0.key < $1.key }) {
                    print(name.padding(toLength: 26, withPad: " ", startingAt: 0) + AnswerCells.display(json))
                }
                return
            }
            let breakdown = BreakdownQuery(filters: query, by: try StatsDimension.parsing(by, field: "--by"), order: order, limit: limit)
            let answer = try await stats.breakdown(breakdown, by: .master)
            if format == .json { return print(AdminJSON.string(answer)) }
            print(AccessCommandRunner.table(
                answer.data.map { AnswerCells.of($0) },
                columns: ["group", "requests", "input_tokens", "output_tokens", "cost_usd", "savings_usd", "p95_latency_ms"]))
        } catch let error as InvalidQuery {
            throw ValidationError(error.message)
        }
    }
}

extension BreakdownOrder: ExpressibleByArgument {}
