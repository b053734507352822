import HTTPTypes
import Hummingbird
import NIOCore
import TollgateCore
import TollgateUpstream

/// Sends the request to the provider and relays its answer: whole for non-streaming metered
/// answers (so the cost can go in a header), chunk by chunk for streams and unmetered paths.
/// Every way it ends settles the request: answered, provider failed, client gone.
struct RelayStage: Sendable {
    let upstream: any UpstreamClient
    let cache: CacheStage
    let settle: SettleStage

    /// Non-streaming metered answers are read whole, so their cost can go in a header before the body.
    func buffered(
        _ request: UpstreamRequest, inspection: RequestInspection, _ exchange: Exchange, _ settlement: Settlement
    ) async throws -> Response {
        var exchange = exchange
        let answer: BufferedResponse
        do {
            answer = try await upstream.buffered(request)
        } catch {
            return failedBeforeHead(error, inspection: inspection, exchange, settlement)
        }
        exchange.timing = answer.timing
        exchange.bytesOut = Int64(answer.body.readableBytes)
        let status = answer.head.status
        var headers = responseHeaders(answer.head, exchange: exchange, decoded: request.decodeContent)
        var event: UsageEvent
        if status < 400 {
            var metered = UsageParser.metered(
                body: answer.body.readableBytesView, format: exchange.format, endpoint: exchange.endpoint,
                estimatedInputTokens: inspection.estimatedInputTokens)
            if metered.source != .provider, let usage = exchange.format.wire.headerUsage(answer.head.headers) {
                metered.usage = usage
                metered.source = .provider
            }
            exchange.model = metered.model ?? exchange.model
            event = exchange.event(status: status, outcome: .ok, usage: metered.usage, source: metered.source)
            settle.price(&event)
            headers[.tollgateCost] = Money.decimalString(event.costNanos)
            cache.store(event, body: Array(answer.body.readableBytesView), exchange, settlement)
        } else {
            event = exchange.event(status: status, outcome: .upstreamError, error: ProviderErrorMessage.from(answer.body.readableBytesView.prefix(Self.errorPrefix)))
        }
        settlement.settle(event)
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: answer.body))
    }

    /// Streams and unmetered paths pass through as the provider sends them; metered streams are
    /// observed on the way (`StreamRelay`).
    func streaming(
        _ request: UpstreamRequest, inspection: RequestInspection, _ exchange: Exchange, _ settlement: Settlement
    ) async throws -> Response {
        let answer: StreamingResponse
        do {
            answer = try await upstream.streaming(request)
        } catch {
            return failedBeforeHead(error, inspection: inspection, exchange, settlement)
        }
        let headers = responseHeaders(answer.head, exchange: exchange, decoded: request.decodeContent)
        let relay = StreamRelay(answer: answer, inspection: inspection, exchange: exchange, settlement: settlement, stage: self)
        return Response(status: .init(code: answer.head.status), headers: headers, body: .init { try await relay.run(&$0) })
    }

    /// The provider call failed before its head: the provider's fault, or the client went away
    /// (its request is then recorded `client_abort` with its input tokens estimated, since the
    /// provider may have started on them).
    private func failedBeforeHead(_ error: any Error, inspection: RequestInspection, _ exchange: Exchange, _ settlement: Settlement) -> Response {
        guard settlement.clientGone.isFired else {
            let failure = error as? UpstreamError ?? UpstreamError(.unavailable, "Tollgate failed to forward the request: \(error)")
            // An answer that broke off after its first bytes is a drop, not an unreachable provider.
            return settle.refuse(
                Self.requestError(for: failure), exchange, settlement, outcome: failure.kind == .dropped ? .upstreamDropped : nil)
        }
        let usage = exchange.endpoint.isMetered ? Usage(inputTokens: inspection.estimatedInputTokens) : .zero
        return settle.refuse(
            RequestError(.clientGone, "The client went away before the provider answered; input tokens estimated."),
            exchange, settlement, usage: usage, source: usage == .zero ? .missing : .estimated)
    }

    /// How much of a provider's error answer is read for its message.
    static let errorPrefix = 16 << 10

    static func requestError(for error: UpstreamError) -> RequestError {
        switch error.kind {
        case .timeout: RequestError(.upstreamTimeout, "\(error.message) Retry, or raise TOLLGATE_FIRST_BYTE_TIMEOUT / TOLLGATE_CONNECT_TIMEOUT.")
        case .unavailable, .dropped, .cancelled: RequestError(.upstreamUnavailable, "\(error.message) Check the provider's base URL and that it is up.")
        }
    }

    func responseHeaders(_ head: UpstreamHead, exchange: Exchange, decoded: Bool) -> HTTPFields {
        var fields = HTTPFields()
        fields.reserveCapacity(head.headers.count + 3)
        for (name, value) in head.headers where HeaderPolicy.forwardsResponseHeader(name, decodedBody: decoded) {
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        fields[.tollgateRequestID] = exchange.requestID
        if let status = exchange.cacheStatus { fields[.tollgateCache] = status }
        return fields
    }
}

extension HTTPField.Name {
    static let tollgateRequestID = Self("X-Tollgate-Request-Id")!
    static let tollgateCost = Self("X-Tollgate-Cost-USD")!
    static let tollgateSaved = Self("X-Tollgate-Saved-USD")!
    static let tollgateCache = Self("X-Tollgate-Cache")!
    static let tollgateCacheTTL = Self("X-Tollgate-Cache-TTL")!
    static let tollgateCacheSource = Self("X-Tollgate-Cache-Source")!
    /// W3C Trace Context (SPEC §15).
    static let traceparent = Self("traceparent")!
}
