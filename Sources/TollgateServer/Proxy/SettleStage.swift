import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import TollgateCore

/// The last stage, on every path: opens each request's `Settlement`, prices usage, and answers
/// with Tollgate's own errors.
struct SettleStage: Sendable {
    let access: AccessControl
    let recorder: any UsageRecorder
    let meter: Meter
    let logger: Logger
    /// Requests not yet settled (`tollgate_requests_in_flight`).
    let inFlight: InFlightCounter
    /// One span per request to OpenTelemetry (SPEC §15), when tracing is on.
    let tracer: SpanExporter?

    func open(_ exchange: Exchange) -> Settlement { Settlement(exchange, stage: self) }

    /// Fills the event's money fields from its usage and model, after bounding the usage: a
    /// provider's counts are untrusted, and absurd ones are clamped, flagged and logged, never
    /// stored as sent (a negative count would lower every total).
    func price(_ event: inout UsageEvent) {
        let (usage, clamped) = event.usage.bounded()
        if clamped {
            let reported = "input \(event.usage.inputTokens), output \(event.usage.outputTokens), cached \(event.usage.cachedInputTokens), cache write \(event.usage.cacheWriteTokens), reasoning \(event.usage.reasoningTokens)"
            logger.warning(
                "The provider reported implausible token counts; recorded clamped to 0…\(Usage.maxTokens) each",
                metadata: ["request_id": "\(event.requestID)", "provider": "\(event.provider)", "reported": "\(reported)"])
            event.error = event.error ?? "Usage clamped: the provider reported implausible token counts (\(reported))."
            event.usage = usage
        }
        let (cost, version) = meter.price(event.usage, model: event.model, provider: event.provider)
        event.costNanos = cost.costNanos
        event.potentialCostNanos = cost.costNanos
        event.promptCacheSavingsNanos = cost.promptCacheSavingsNanos
        event.chargedNanos = CostCalculator.charged(cost.costNanos, markup: access.markup(org: event.org))
        event.priced = cost.priced
        event.pricingVersion = version
    }

    /// Answers with Tollgate's own error, in the route's provider format, and settles the request
    /// (with `outcome` when it is more precise than the error's, and `usage` when tokens were spent).
    func refuse(
        _ error: RequestError, _ exchange: Exchange, _ settlement: Settlement, outcome: Outcome? = nil, usage: Usage = .zero,
        source: UsageSource = .missing
    ) -> Response {
        var event = exchange.event(
            status: error.status, outcome: outcome ?? error.outcome, usage: usage, source: source, error: error.message)
        if usage != .zero { price(&event) }
        settlement.settle(event)
        if error.status >= 500, error.code != .clientGone {
            logger.warning("\(error.message)", metadata: ["request_id": "\(exchange.requestID)", "provider": "\(exchange.provider)"])
        }
        var headers: HTTPFields = [.contentType: "application/json", .tollgateRequestID: exchange.requestID]
        for (name, value) in ErrorRenderer.headers(error, format: exchange.format) {
            if let fieldName = HTTPField.Name(name) { headers[fieldName] = value }
        }
        let body = ErrorRenderer.body(error, format: exchange.format)
        return Response(status: .init(code: error.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// How many requests are between arrival and settlement, and how many were settled in all.
final class InFlightCounter: Sendable {
    private let count = Atomic<Int>(0)
    private let settled = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    func decrement() {
        count.subtract(1, ordering: .relaxed)
        settled.add(1, ordering: .relaxed)
    }
    var value: Int { count.load(ordering: .relaxed) }
    var served: Int { settled.load(ordering: .relaxed) }
}
