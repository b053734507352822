import ArgumentParser
import TollgateServer

/// The stats filters of SPEC §9 and §13 as flags, shared by `tollgate stats` and `tollgate export`.
struct StatsFilterOptions: ParsableArguments {
    @Option(help: "Start: ISO-8601 or relative (24h, 7d). Default: 30 days ago.") var from: String?
    @Option(help: "End: ISO-8601 or relative. Default: now.") var to: String?
    @Option(help: "Only this organization.") var org: String?
    @Option(help: "Only this team.") var team: String?
    @Option(help: "Only this user.") var user: String?
    @Option(help: "Only this provider.") var provider: String?
    @Option(help: "Only this model.") var model: String?
    @Option(help: "Only this key id.") var key: String?
    @Option(help: "Only this department.") var department: String?
    @Option(help: "Only this session (X-Tollgate-Session).") var session: String?
    @Option(help: "Only this endpoint: chat, completion, embedding, responses, messages, generate or other.") var endpoint: String?
    @Option(help: "Only this outcome: ok, upstream_error, rate_limited, budget_blocked, client_abort, ….") var outcome: String?
    @Option(help: "Only requests answered with this HTTP status.") var status: Int?
    @Option(name: .customLong("tag"), help: "Only events with this tag, as name=value (repeatable).") var tags: [String] = []

    /// Each `--tag` is `name=value`; the name is checked with the other filters (`tag.<name>`).
    func validate() throws {
        for tag in tags where !tag.contains("=") {
            throw ValidationError("--tag must be name=value, got '\(tag)'.")
        }
    }

    /// The filters given, as the stats functions take them.
    func query() throws -> StatsQuery {
        var query = StatsQuery(
            from: from, to: to, org: org, team: team, user: user, key: key, provider: provider, model: model, department: department,
            session: session, endpoint: endpoint, outcome: outcome, status: status)
        do {
            for tag in tags { try query.addTag(String(tag.prefix { $0 != "=" }), String(tag.drop { $0 != "=" }.dropFirst())) }
            try query.check()
        } catch {
            throw ValidationError(error.message)
        }
        return query
    }
}
