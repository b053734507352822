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
        let json: String
        do {
            json = try await AdminStats.summaryJSON(store: UsageStore(database: db), query: query)
        } catch let error as AdminStats.InvalidQuery {
            throw ValidationError(error.message)
        }
        if format == "json" {
            print(json)
            return
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return }
        let order = [
            "from", "to", "requests", "ok_requests", "error_requests", "blocked_requests", "cached_requests",
            "cache_hit_rate", "input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens",
            "reasoning_tokens", "cost_usd", "potential_cost_usd", "savings_usd", "savings_pct",
            "prompt_cache_savings_usd", "charged_usd", "profit_usd", "avg_latency_ms", "p50_latency_ms",
            "p95_latency_ms", "p99_latency_ms", "unpriced_requests",
        ]
        // Money is printed from the JSON text's own digits, never re-formatted through Double.
        let raw = Self.rawValues(json)
        for name in order where object[name] != nil {
            print(name.padding(toLength: 26, withPad: " ", startingAt: 0) + (raw[name] ?? "\(object[name]!)"))
        }
    }

    /// The literal value text of each top-level member of a flat JSON object.
    static func rawValues(_ json: String) -> [String: String] {
        var out: [String: String] = [:]
        let body = json.dropFirst().dropLast()
        for member in body.split(separator: ",") {
            guard let colon = member.firstIndex(of: ":") else { continue }
            let key = member[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            out[key] = member[member.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return out
    }
}
