import ArgumentParser
import Foundation
import TollgateServer

/// How the access commands print: a table for people, the admin API's JSON for scripts.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// A refusal printed as one line (`Error: …`, exit code 1), without the usage text.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Runs one admin operation on the database, as the master admin, and prints its answer.
struct AccessCommandRunner {
    let database: DatabaseOptions
    let format: OutputFormat

    func run<Answer: Encodable>(columns: [String], _ operation: (AccessAdmin) async throws -> Answer) async throws {
        try Self.print(try await answer(operation), format: format, columns: columns)
    }

    func run<Item>(columns: [String], _ operation: (AccessAdmin) async throws -> ListAnswer<Item>) async throws {
        try Self.print(try await answer(operation), format: format, columns: columns)
    }

    private func answer<Answer>(_ operation: (AccessAdmin) async throws -> Answer) async throws -> Answer {
        let admin = AccessAdmin(database: try database.open())
        do {
            return try await operation(admin)
        } catch let error as AdminError {
            throw CommandFailure(message: error.message)
        }
    }

    /// Prints an admin answer as the API's JSON, or as a one-row table.
    static func print(_ answer: some Encodable, format: OutputFormat, columns: [String]) throws {
        guard format == .table else { return Swift.print(AdminJSON.string(answer)) }
        Swift.print(table([AnswerCells.of(answer)], columns: columns))
    }

    /// Prints a list answer as the API's JSON, or as a table of its items.
    static func print<Item>(_ answer: ListAnswer<Item>, format: OutputFormat, columns: [String]) throws {
        guard format == .table else { return Swift.print(AdminJSON.string(answer)) }
        Swift.print(table(answer.data.map { AnswerCells.of($0) }, columns: columns))
    }

    /// Aligned columns of the API's members; strings shown without quotes, null as `-`.
    static func table(_ rows: [[String: String]], columns: [String]) -> String {
        let cells = rows.map { row in columns.map { AnswerCells.display(row[$0]) } }
        var widths = columns.map(\.count)
        for row in cells { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ values: [String]) -> String {
            zip(values, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        return ([line(columns.map { $0.uppercased() })] + cells.map(line)).joined(separator: "\n")
    }
}

/// `tollgate orgs create|list`.
struct OrgsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orgs", abstract: "Create and list organizations (the top of attribution; each has a markup).",
        subcommands: [Create.self, List.self])

    static let columns = ["id", "name", "markup_pct", "created_at"]

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an org.")
        @Argument(help: "Org id, a slug such as acme.") var id: String
        @Option(help: "Display name (default: the id).") var name: String?
        @Option(name: .customLong("markup-pct"), help: "Markup on cost in percent, for charged_usd (default 0).") var markupPct: Double?
        @OptionGroup var database: DatabaseOptions
        @Option(help: "table or json.") var format: OutputFormat = .table

        func run() async throws {
            var input: [String: Any] = ["id": id]
            input["name"] = name
            input["markup_pct"] = markupPct
            try await AccessCommandRunner(database: database, format: format).run(columns: OrgsCommand.columns) {
                try await $0.createOrg(AdminInput(input), by: .master)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List orgs.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "table or json.") var format: OutputFormat = .table

        func run() async throws {
            try await AccessCommandRunner(database: database, format: format).run(columns: OrgsCommand.columns) {
                try await $0.listOrgs(by: .master)
            }
        }
    }
}

/// `tollgate keys create|list|revoke`.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Issue, list and revoke Tollgate keys (tg_…).",
        discussion: "A running server sees changes within a second. The secret is printed once, at creation.",
        subcommands: [Create.self, List.self, Revoke.self])

    static let columns = ["id", "prefix", "org", "name", "team", "user", "role", "rpm_limit", "tpm_limit", "expires_at", "revoked_at", "last_used_at"]

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a key; prints its secret once.")
        @Option(help: "The key's org (must exist).") var org: String
        @Option(help: "A name to recognise it by.") var name: String?
        @Option(help: "Team it belongs to.") var team: String?
        @Option(help: "User it belongs to.") var user: String?
        @Option(help: "Department it belongs to.") var department: String?
        @Option(help: "client (default) or admin (admin API access to its org).") var role: String?
        @Option(name: .customLong("allowed-model"), help: "Model glob it may use, e.g. 'gpt-4o*'; repeat for more. Default: any.")
        var allowedModels: [String] = []
        @Option(help: "Requests per minute.") var rpm: Int?
        @Option(help: "Tokens per minute.") var tpm: Int?
        @Option(help: "Cache policy: on, off or default.") var cache: String?
        @Option(name: .customLong("expires-at"), help: "Expiry, ISO-8601 (2026-12-31T00:00:00Z).") var expiresAt: String?
        @OptionGroup var database: DatabaseOptions
        @Option(help: "table or json.") var format: OutputFormat = .table

        func run() async throws {
            var input: [String: Any] = ["org": org]
            input["name"] = name
            input["team"] = team
            input["user"] = user
            input["department"] = department
            input["role"] = role
            if !allowedModels.isEmpty { input["allowed_models"] = allowedModels }
            input["rpm_limit"] = rpm
            input["tpm_limit"] = tpm
            input["cache"] = cache
            input["expires_at"] = expiresAt
            try await AccessCommandRunner(database: database, format: format).run(columns: ["key"] + KeysCommand.columns) {
                try await $0.createKey(AdminInput(input), by: .master)
            }
            if format == .table { print("\nThe key is shown only now: store it safely.") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (prefixes only, never secrets).")
        @Option(help: "Only this org's keys.") var org: String?
        @OptionGroup var database: DatabaseOptions
        @Option(help: "table or json.") var format: OutputFormat = .table

        func run() async throws {
            try await AccessCommandRunner(database: database, format: format).run(columns: KeysCommand.columns) {
                try await $0.listKeys(org: org, cursor: nil, limit: 1000, by: .master)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: it is refused from then on (the record stays).")
        @Argument(help: "Key id (key_…).") var id: String
        @OptionGroup var database: DatabaseOptions
        @Option(help: "table or json.") var format: OutputFormat = .table

        func run() async throws {
            try await AccessCommandRunner(database: database, format: format).run(columns: KeysCommand.columns) {
                try await $0.revokeKey(id, by: .master)
            }
        }
    }
}

/// `tollgate budgets set|list`.
struct BudgetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budgets", abstract: "Set and list spending limits on keys, teams and orgs.",
        subcommands: [Set.self, List.self])

    static let columns = ["id", "scope", "scope_id", "org", "period", "limit_usd", "spent_usd", "remaining_usd", "action", "enforcement", "period_end"]

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a budget, or change the one with the same scope and period.")
        @Option(help: "key, team, user, department or org.") var scope: String
        @Option(name: .customLong("scope-id"), help: "The key id, the team, user or department name, or the org id.") var scopeID: String
        @Option(help: "The org (required for a team, user or department budget).") var org: String?
        @Option(name: .customLong("limit-usd"), help: "Limit in USD.") var limitUSD: Double
        @Option(help: "day, week, month (default; UTC calendar) or total.") var period: String?
        @Option(name: .customLong("threshold"), help: "Alert threshold as a fraction; repeat (default 0.5, 0.8, 1.0).")
        var thresholds: [Double] = []
        @Option(help: "block (default) or alert.") var action: String?
        @Option(help: "strict (default) or soft.") var enforcement: String?
        @OptionGroup var database: DatabaseOptions
        @Option(help: "table or json.") var format: OutputFormat = .table

        func run() async throws {
            var input: [String: Any] = ["scope": scope, "scope_id": scopeID, "limit_usd": limitUSD]
            input["org"] = org
            input["period"] = period
            if !thresholds.isEmpty { input["thresholds"] = thresholds }
            input["action"] = action
            input["enforcement"] = enforcement
            try await AccessCommandRunner(database: database, format: format).run(columns: BudgetsCommand.columns) {
                try await $0.setBudget(AdminInput(input), by: .master)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List budgets with this period's spend.")
        @Option(help: "Only this org's budgets.") var org: String?
        @OptionGroup var database: DatabaseOptions
        @Option(help: "table or json.") var format: OutputFormat = .table

        func run() async throws {
            try await AccessCommandRunner(database: database, format: format).run(columns: BudgetsCommand.columns) {
                try await $0.listBudgets(org: org, by: .master)
            }
        }
    }
}

/// `tollgate cache stats|clear`.
struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache", abstract: "Response cache: how big it is, and clearing it.",
        subcommands: [Stats.self, Clear.self])

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Entries and bytes stored (not expired).")
        @Option(help: "Only this org's entries.") var org: String?
        @OptionGroup var database: DatabaseOptions
        @Option(help: "table or json.") var format: OutputFormat = .table

        func run() async throws {
            let admin = CacheAdmin(database: try database.open())
            let answer = try await admin.stats(org: org, by: .master)
            try AccessCommandRunner.print(answer, format: format, columns: ["entries", "bytes"])
        }
    }

    struct Clear: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete cached answers (all, or one org's); a running server drops its memory copy within a second.")
        @Option(help: "Only this org's entries.") var org: String?
        @OptionGroup var database: DatabaseOptions
        @Option(help: "table or json.") var format: OutputFormat = .table

        func run() async throws {
            let admin = CacheAdmin(database: try database.open())
            let answer = try await admin.clear(org: org, by: .master)
            try AccessCommandRunner.print(answer, format: format, columns: ["deleted", "org"])
        }
    }
}
