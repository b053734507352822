import HTTPTypes
import Hummingbird
import TollgateCore
import TollgateStorage

/// Tollgate's own API for the callers of the proxy (SPEC §13), with the token they send the
/// provider APIs, as their SDKs send it (`Authorization: Bearer`, `x-api-key`, `x-goog-api-key`, `api-key`):
/// - `GET /tollgate/v1/me`: a client key's own spend, the budgets that cover it, its rate limits;
/// - `POST /tollgate/v1/feedback`: a rating of one answer, by the token that asked for it (or an admin).
struct SelfServiceRoutes: Sendable {
    let access: AccessControl
    let auth: AdminAuth
    let stats: AdminStats
    let admin: AccessAdmin
    /// Flushed when feedback names a request not committed yet.
    let writer: UsageWriter?

    /// Longest feedback comment, in characters.
    static let maxComment = 2000

    func register(on router: RouterGroup<TollgateRequestContext>) {
        router.get("/tollgate/v1/me") { request, _ in
            let key = try caller(request)
            let parameters = QueryParameters(request)
            var filters = StatsQuery(from: parameters["from"], to: parameters["to"])
            filters.key = key.id
            return AdminResponse.json(try await me(key, filters: filters))
        }
        router.post("/tollgate/v1/feedback") { request, _ in
            let input = try await AccessRoutes.input(request)
            return AdminResponse.json(try await feedback(input, token: Self.token(request)), status: .created)
        }
    }

    /// The usable Tollgate key the request carries; 401 in the admin API's shape otherwise.
    private func caller(_ request: Request) throws -> TollgateKey {
        guard let token = Self.token(request), token.isTollgateKey else {
            throw AdminError(.unauthorized, code: "unauthorized", "Send your Tollgate key (tg_…) as Authorization: Bearer, x-api-key, x-goog-api-key or api-key; /tollgate/v1/me describes a Tollgate key.")
        }
        guard let key = access.key(secret: token.value) else {
            throw AdminError(.unauthorized, code: "unauthorized", "Unknown Tollgate key. Check the key, or ask your admin for one.")
        }
        if let refusal = key.refusal(atMs: access.clock()) { throw AdminError(.unauthorized, code: "unauthorized", refusal) }
        return key
    }

    /// The token a request carries, read as the SDKs send it (as the proxy reads it).
    static func token(_ request: Request) -> ClientToken? {
        ClientToken { name in HTTPField.Name(name).flatMap { request.headers[$0] } }
    }

    private func feedback(_ input: AdminInput, token: ClientToken?) async throws -> FeedbackView {
        try input.allowOnly(["request_id", "rating", "helpful", "comment"])
        let requestID = try input.required("request_id")
        let rating = try input.positiveInt("rating")
        if let rating, rating > 5 { throw AdminError.invalid("rating", "must be a whole number from 1 to 5.") }
        let helpful = try input.bool("helpful")
        let comment = try input.string("comment")
        if let comment, comment.count > Self.maxComment { throw AdminError.invalid("comment", "must be at most \(Self.maxComment) characters.") }
        guard rating != nil || helpful != nil else { throw AdminError.invalid("rating", "or 'helpful' is required.") }
        let sees = try visibility(token)
        guard let event = try await stats.event(requestID, flushing: writer), sees(event) else {
            throw AdminError(.notFound, code: "not_found", "No request '\(requestID)' made with this token. Send the X-Tollgate-Request-Id of an answer you received, with the same key.")
        }
        let saved = Feedback(rating: rating, helpful: helpful, comment: comment, ratedAtMs: access.clock())
        try await stats.feedback.save(saved, on: event)
        return FeedbackView(requestID: requestID, rating: rating, helpful: helpful, comment: comment, ratedAt: UTCTime.iso(saved.ratedAtMs))
    }

    /// Which requests a token may rate: those it made (a Tollgate key's, or a provider key's as
    /// passthrough), an admin-role key its org's too, the master admin key any.
    private func visibility(_ token: ClientToken?) throws -> @Sendable (UsageEvent) -> Bool {
        guard let token else {
            throw AdminError(.unauthorized, code: "unauthorized", "Send the key you made the request with, as your SDK does.")
        }
        if token.isTollgateKey {
            guard let key = access.key(secret: token.value), key.refusal(atMs: access.clock()) == nil else {
                throw AdminError(.unauthorized, code: "unauthorized", "Unknown, revoked or expired Tollgate key.")
            }
            return { event in event.keyID == key.id || (key.role == .admin && event.org == key.org) }
        }
        if let master = auth.adminKey, AdminAuth.constantTimeEquals(token.value, master) { return { _ in true } }
        let keyID = token.passthroughKeyID
        return { event in event.keyID == keyID }
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

/// `POST /tollgate/v1/feedback`'s answer: the feedback as stored.
package struct FeedbackView: Codable, Sendable, Equatable {
    package var requestID: String
    @Nullable package var rating: Int?
    @Nullable package var helpful: Bool?
    @Nullable package var comment: String?
    package var ratedAt: String

    enum CodingKeys: String, CodingKey { case requestID = "request_id", rating, helpful, comment, ratedAt = "rated_at" }
}
