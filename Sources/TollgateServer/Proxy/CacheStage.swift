import HTTPTypes
import Hummingbird
import NIOCore
import TollgateCore

/// The cache stage (SPEC §8): answer a hit, or mark the request to store its answer.
struct CacheStage: Sendable {
    let cache: ResponseCache
    let meter: Meter
    let settings: ProxySettings
    let clock: @Sendable () -> Int64

    /// The longest a cache entry may live, whatever a client's `X-Tollgate-Cache-TTL` says: ten years.
    static let maxCacheTTLSeconds = 315_360_000

    /// The response cache (SPEC §8): decides whether it applies (request header, then the key's
    /// policy, then `TOLLGATE_CACHE`), answers a hit, or marks the request to store its answer.
    func consult(
        _ request: Request, inspection: RequestInspection, route: ProviderRouter.Route, _ exchange: inout Exchange,
        _ settlement: Settlement
    ) async throws -> Response? {
        guard route.endpoint.isMetered else { return nil }
        let asked = request.headers[.tollgateCache]?.trimmingSpaces().lowercased()
        let on: Bool
        let refresh: Bool
        switch asked {
        case "on": (on, refresh) = (true, false)
        case "refresh": (on, refresh) = (true, true)
        case "off": (on, refresh) = (false, false)
        case nil:
            refresh = false
            switch exchange.key?.cache ?? .default {
            case .on: on = true
            case .off: on = false
            case .default: on = settings.cacheByDefault
            }
        default:
            throw RequestError(.invalidRequest, "X-Tollgate-Cache must be on, off or refresh; got '\(asked ?? "")'.")
        }
        let explicit = asked != nil || (exchange.key?.cache ?? .default) != .default
        // The Responses API's event stream is not replayed from the cache.
        guard on, !(route.endpoint == .responses && inspection.stream) else {
            if explicit || on { exchange.cacheStatus = "BYPASS" }
            return nil
        }
        var ttl = settings.cacheTTLSeconds
        if let text = request.headers[.tollgateCacheTTL] {
            guard let seconds = Int(text.trimmingSpaces()), seconds >= 1 else {
                throw RequestError(.invalidRequest, "X-Tollgate-Cache-TTL must be a whole number of seconds ≥ 1; got '\(text)'.")
            }
            ttl = seconds
        }
        guard let canonical = inspection.canonicalBody else { return nil }
        let key = CacheKey.make(
            org: exchange.attribution.org, provider: exchange.provider, endpoint: exchange.endpoint, model: exchange.model,
            canonical: canonical)
        exchange.cacheKey = key
        // Clamped: a client's TTL in seconds times 1000 must not overflow, nor outlive the entry's use.
        exchange.cacheTTLMs = Int64(min(ttl, Self.maxCacheTTLSeconds)) * 1000
        if refresh {
            settlement.hold(cache.refreshLease(key))
            exchange.cacheStatus = "REFRESH"
            return nil
        }
        switch await cache.lookup(key, clientGone: settlement.clientGone) {
        case .hit(let answer, let source):
            if let response = serveHit(answer, source: source, request: request, inspection: inspection, exchange, settlement) {
                return response
            }
            // Cached, but not replayable as a stream: fetch it and replace the entry.
            settlement.hold(cache.refreshLease(key))
        case .miss(let lease):
            settlement.hold(lease)
        case .abandoned:
            throw RequestError(.clientGone, "The client went away while waiting for an identical request's answer.")
        }
        exchange.cacheStatus = "MISS"
        return nil
    }

    /// Whether the cache may apply, so inspection also gives the body's canonical form.
    func mayApply(_ request: Request, _ exchange: Exchange) -> Bool {
        if let asked = request.headers[.tollgateCache] { return asked.trimmingSpaces().lowercased() != "off" }
        switch exchange.key?.cache ?? .default {
        case .on: return true
        case .off: return false
        case .default: return settings.cacheByDefault
        }
    }

    /// Stores a successful answer under the request's cache key (and releases coalesced requests).
    /// `body` is only made when the request holds a cache lease: most requests never copy their answer.
    func store(_ event: UsageEvent, body: @autoclosure () -> [UInt8]?, _ exchange: Exchange, _ settlement: Settlement) {
        guard let lease = settlement.lease else { return }
        guard let body = body(), let key = exchange.cacheKey, event.outcome == .ok, event.status == 200 else {
            lease.complete(nil)
            return
        }
        let now = clock()
        lease.complete(CachedAnswer(
            key: key, org: event.org, provider: event.provider, format: exchange.format, endpoint: event.endpoint,
            model: event.model, body: body, usage: event.usage, costNanos: event.costNanos, createdAtMs: now,
            expiresAtMs: now + exchange.cacheTTLMs))
    }

    /// Answers from the cache as JSON or, for a streaming request, as the provider's stream; nil
    /// when the answer cannot be replayed as a stream (the request then goes upstream). Settles
    /// once the answer is written: `ok`, or `client_abort` if the client left during the replay.
    func serveHit(
        _ answer: CachedAnswer, source: ResponseCache.Source, request: Request, inspection: RequestInspection,
        _ exchange: Exchange, _ settlement: Settlement
    ) -> Response? {
        var headers: HTTPFields = [.tollgateRequestID: exchange.requestID, .tollgateCache: "HIT"]
        let body: [UInt8]
        if inspection.stream {
            let sse = exchange.format != .gemini || request.uri.query?.contains("alt=sse") == true
            guard let stream = StreamSynthesizer.stream(
                answer.body, format: answer.format, endpoint: answer.endpoint, includeUsage: !inspection.stripUsageChunk, sse: sse)
            else { return nil }
            body = stream
            headers[.contentType] = sse ? "text/event-stream" : "application/json"
        } else {
            body = answer.body
            headers[.contentType] = "application/json"
        }
        headers[.tollgateCacheSource] = source.rawValue
        headers[.tollgateCost] = "0"
        headers[.tollgateSaved] = Money.decimalString(answer.costNanos)
        var exchange = exchange
        exchange.model = answer.model
        var event = exchange.event(status: 200, outcome: .ok, usage: answer.usage, source: .provider)
        event.cached = true
        event.potentialCostNanos = answer.costNanos
        event.priced = meter.lookup(answer.model, provider: answer.provider) != nil
        event.pricingVersion = meter.pricing.current.version
        let replay = Replay(settlement: settlement, event: event, body: ByteBuffer(bytes: body))
        return Response(status: .ok, headers: headers, body: .init(contentLength: body.count) { try await replay.write(to: &$0) })
    }

    /// A cache hit's answer on its way to the client, written in slices so a client that leaves
    /// mid-way is seen; dropped unwritten (the head could not be written), it settles as `client_abort`.
    private final class Replay: Sendable {
        let settlement: Settlement
        let event: UsageEvent
        let body: ByteBuffer

        init(settlement: Settlement, event: UsageEvent, body: ByteBuffer) {
            self.settlement = settlement
            self.event = event
            self.body = body
        }

        func write(to writer: inout any ResponseBodyWriter) async throws {
            var rest = body
            do {
                while let slice = rest.readSlice(length: min(rest.readableBytes, 64 << 10)), slice.readableBytes > 0 {
                    // Writes to a connection that just closed can still return before they fail.
                    if settlement.clientGone.isFired { throw CancellationError() }
                    try await writer.write(slice)
                }
                try await writer.finish(nil)
                if settlement.clientGone.isFired { throw CancellationError() }
            } catch {
                settle(bytesOut: body.readableBytes - rest.readableBytes, outcome: .clientAbort, error: "The client went away during the cached answer.")
                throw error
            }
            settle(bytesOut: body.readableBytes, outcome: .ok, error: nil)
        }

        private func settle(bytesOut: Int, outcome: Outcome, error: String?) {
            var event = event
            event.bytesOut = Int64(bytesOut)
            event.outcome = outcome
            event.error = error
            settlement.settle(event)
        }

        deinit { settle(bytesOut: 0, outcome: .clientAbort, error: "The client went away before the cached answer.") }
    }
}
