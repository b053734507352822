import Foundation
import TollgateCore
import TollgateUpstream

/// What is known about one request as it moves through the pipeline; becomes its usage event.
///
/// A value: stages fill it in. What the request holds and must give back (its budget
/// reservation, its token-bucket charge, its cache lease) lives in its `Settlement` instead,
/// which turns this into exactly one event on every path.
struct Exchange: Sendable {
    let requestID: String
    let startedNanos: UInt64
    let startedAtMs: Int64
    var provider = "unknown"
    var format: ProviderFormat = .openai
    var endpoint: Endpoint = .other
    var attribution = Attribution(org: "default", keyID: "anonymous")
    var model = ""
    var stream = false
    var bytesIn: Int64 = 0
    var bytesOut: Int64 = 0
    var timing: UpstreamTiming?
    /// The Tollgate key the client presented (nil: passthrough).
    var key: TollgateKey?
    /// The response cache's verdict for the `X-Tollgate-Cache` header (HIT, MISS, BYPASS, REFRESH);
    /// nil when the cache was not considered.
    var cacheStatus: String?
    /// The cache key and entry lifetime, when the answer is to be stored.
    var cacheKey: String?
    var cacheTTLMs: Int64 = 0
    /// The request's trace, continued from the client's `traceparent` (nil: tracing is off).
    var trace: TraceContext?

    init() {
        startedNanos = monotonicNanos()
        startedAtMs = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        requestID = RequestIDGenerator.make(atMs: startedAtMs)
    }

    /// The usage event for this exchange, ending now.
    func event(status: Int, outcome: Outcome, usage: Usage = .zero, source: UsageSource = .missing, error: String? = nil)
        -> UsageEvent
    {
        let nanosToMs = { (nanos: UInt64) in Double(nanos) / 1_000_000 }
        return UsageEvent(
            requestID: requestID, startedAtMs: startedAtMs, org: attribution.org, keyID: attribution.keyID,
            team: attribution.team, user: attribution.user, department: attribution.department,
            session: attribution.session, tags: attribution.tags, provider: provider, endpoint: endpoint,
            model: model, status: status, outcome: outcome, stream: stream, usage: usage,
            latencyMs: nanosToMs(monotonicNanos() - startedNanos),
            ttfbMs: timing?.firstByteNanos.map(nanosToMs), upstreamMs: timing.map { nanosToMs($0.totalNanos) },
            bytesIn: bytesIn, bytesOut: bytesOut, usageSource: source, error: error)
    }
}
