import HTTPTypes
import Hummingbird
import TollgateCore
import TollgateStorage

/// `GET /tollgate/v1/me` (SPEC §13): a team with a client key sees its own spend, the budgets that
/// cover it and its rate limits, without asking an admin. The key is sent as the SDKs send it
/// (`Authorization: Bearer`, `x-api-key` or `x-goog-api-key`) and only ever sees itself.
struct SelfServiceRoutes: Sendable {
    let access: AccessControl
    let stats: AdminStats
    let admin: AccessAdmin

    func register(on router: RouterGroup<TollgateRequestContext>) {
        router.get("/tollgate/v1/me") { request, _ in
            let key = try caller(request)
            let parameters = QueryParameters(request)
            var filters = StatsQuery(from: parameters["from"], to: parameters["to"])
            filters.key = key.id
            return AdminResponse.json(try await me(key, filters: filters))
        }
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            router.on("/tollgate/**", method: method) { request, _ -> Response in
                throw AdminError(.notFound, code: "not_found", "No Tollgate endpoint \(request.method) \(request.uri.path); /tollgate/v1/me is the one there is.")
            }
        }
    }

    /// The usable Tollgate key the request carries; 401 in the admin API's shape otherwise.
    private func caller(_ request: Request) throws -> TollgateKey {
        let token = ClientToken { name in HTTPField.Name(name).flatMap { request.headers[$0] } }
        guard let token, token.isTollgateKey else {
            throw AdminError(.unauthorized, code: "unauthorized", "Send your Tollgate key (tg_…) as Authorization: Bearer, x-api-key or x-goog-api-key; /tollgate/v1/me describes a Tollgate key.")
        }
        guard let key = access.key(secret: token.value) else {
            throw AdminError(.unauthorized, code: "unauthorized", "Unknown Tollgate key. Check the key, or ask your admin for one.")
        }
        if let refusal = key.refusal(atMs: access.clock()) { throw AdminError(.unauthorized, code: "unauthorized", refusal) }
        return key
    }

    private func me(_ key: TollgateKey, filters: StatsQuery) async throws -> MeAnswer {
        let principal = AdminPrincipal.orgAdmin(key.org)
        async let own = stats.summary(SummaryQuery(filters: filters), by: principal)
        var orgFilters = filters
        orgFilters.key = nil
        async let keys = stats.breakdown(BreakdownQuery(filters: orgFilters, by: .key, limit: 1), by: principal)
        async let budgets = admin.budgets(covering: key)
        let (summary, breakdown) = (try await own, try await keys)
        return MeAnswer(
            key: KeyView(key), summary: summary.period, budgets: try await budgets,
            rateLimits: .init(rpmLimit: key.rpmLimit, tpmLimit: key.tpmLimit),
            orgAverageKey: .init(keys: breakdown.groups, average: breakdown.average))
    }
}

/// `GET /tollgate/v1/me`'s answer.
package struct MeAnswer: Codable, Sendable, Equatable {
    /// The key itself, as the admin API shows it (never its secret).
    package var key: KeyView
    /// Its requests in the range (`from`, `to`; default the last 30 days).
    package var summary: PeriodSummary
    /// The budgets its requests count against: its own, its team's, its org's.
    package var budgets: [BudgetView]
    package var rateLimits: RateLimits
    /// The org's keys with traffic in the range, and the figures of the average one.
    package var orgAverageKey: OrgAverage

    package struct RateLimits: Codable, Sendable, Equatable {
        @Nullable package var rpmLimit: Int?
        @Nullable package var tpmLimit: Int?

        enum CodingKeys: String, CodingKey { case rpmLimit = "rpm_limit", tpmLimit = "tpm_limit" }
    }

    package struct OrgAverage: Codable, Sendable, Equatable {
        package var keys: Int
        package var average: BreakdownAnswer.Average

        init(keys: Int, average: BreakdownAnswer.Average) {
            self.keys = keys
            self.average = average
        }

        package init(from decoder: any Decoder) throws {
            keys = try decoder.container(keyedBy: CodingKeys.self).decode(Int.self, forKey: .keys)
            average = try BreakdownAnswer.Average(from: decoder)
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(keys, forKey: .keys)
            try average.encode(to: encoder)
        }

        enum CodingKeys: String, CodingKey { case keys }
    }

    enum CodingKeys: String, CodingKey {
        case key, summary, budgets, rateLimits = "rate_limits", orgAverageKey = "org_average_key"
    }
}
