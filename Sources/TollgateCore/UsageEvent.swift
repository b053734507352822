/// One request's record: who called, what it cost, how it went (SPEC §5).
///
/// Money fields are integer nano-dollars (1e-9 USD); no prompt or completion content is kept.
/// `requestID` is the idempotency key: storing the same event twice keeps one row.
package struct UsageEvent: Sendable, Equatable, Codable {
    package var requestID: String
    /// Unix time in milliseconds when the request arrived.
    package var startedAtMs: Int64
    package var org: String
    package var keyID: String
    package var team: String?
    package var user: String?
    package var department: String?
    package var session: String?
    /// Free dimensions from `X-Tollgate-Tag-<Name>` headers, names lower-cased.
    package var tags: [String: String]
    package var provider: String
    package var endpoint: Endpoint
    package var model: String
    /// HTTP status the client received (0 if none was sent, e.g. a client that went away first).
    package var status: Int
    package var outcome: Outcome
    package var stream: Bool
    package var cached: Bool
    package var usage: Usage
    package var costNanos: Int64
    package var potentialCostNanos: Int64
    package var promptCacheSavingsNanos: Int64
    package var chargedNanos: Int64
    package var latencyMs: Double
    package var ttfbMs: Double?
    package var upstreamMs: Double?
    package var bytesIn: Int64
    package var bytesOut: Int64
    package var usageSource: UsageSource
    package var priced: Bool
    package var pricingVersion: String?
    package var error: String?

    package init(
        requestID: String, startedAtMs: Int64, org: String, keyID: String, team: String? = nil,
        user: String? = nil, department: String? = nil, session: String? = nil, tags: [String: String] = [:],
        provider: String, endpoint: Endpoint, model: String, status: Int, outcome: Outcome,
        stream: Bool = false, cached: Bool = false, usage: Usage = .zero, costNanos: Int64 = 0,
        potentialCostNanos: Int64 = 0, promptCacheSavingsNanos: Int64 = 0, chargedNanos: Int64 = 0,
        latencyMs: Double = 0, ttfbMs: Double? = nil, upstreamMs: Double? = nil, bytesIn: Int64 = 0,
        bytesOut: Int64 = 0, usageSource: UsageSource = .missing, priced: Bool = false,
        pricingVersion: String? = nil, error: String? = nil
    ) {
        self.requestID = requestID
        self.startedAtMs = startedAtMs
        self.org = org
        self.keyID = keyID
        self.team = team
        self.user = user
        self.department = department
        self.session = session
        self.tags = tags
        self.provider = provider
        self.endpoint = endpoint
        self.model = model
        self.status = status
        self.outcome = outcome
        self.stream = stream
        self.cached = cached
        self.usage = usage
        self.costNanos = costNanos
        self.potentialCostNanos = potentialCostNanos
        self.promptCacheSavingsNanos = promptCacheSavingsNanos
        self.chargedNanos = chargedNanos
        self.latencyMs = latencyMs
        self.ttfbMs = ttfbMs
        self.upstreamMs = upstreamMs
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.usageSource = usageSource
        self.priced = priced
        self.pricingVersion = pricingVersion
        self.error = error
    }
}
