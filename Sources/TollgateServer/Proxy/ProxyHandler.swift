import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// The proxy pipeline, drawn once here (docs/architecture.md has the picture):
///
///     route → identify → read body → inspect → admit → cache → forward → relay (observe the stream) → record
///
/// `admit` runs SPEC §9's checks in order: model allow-list → rate limit → budget reservation.
/// Every stage may end the request early with a `RequestError`; whatever happens, the last
/// stage settles the reservation and records one usage event.
struct ProxyHandler: Sendable {
    let router: ProviderRouter
    let upstream: any UpstreamClient
    let recorder: any UsageRecorder
    let meter: Meter
    let access: AccessControl
    let cache: ResponseCache
    let settings: ProxySettings
    let logger: Logger

    func handle(_ request: Request) async -> Response {
        var exchange = Exchange()
        do {
            let route = try self.route(request, &exchange)
            try identify(request, route: route, &exchange)
            let unmetered = try police(route, exchange)
            let body = try await readBody(request, &exchange)
            let inspection = try inspect(request, body, route: route, &exchange)
            try admit(inspection, route: route, unmetered: unmetered, body: body, &exchange)
            if let hit = try await consultCache(request, inspection: inspection, route: route, &exchange) {
                return hit
            }
            let upstreamBody = inspection.upstreamBody.map { ByteBuffer(bytes: $0) } ?? body
            let upstreamRequest = buildUpstreamRequest(request, route: route, body: upstreamBody, swapCredential: exchange.key != nil)
            if inspection.stream || !route.endpoint.isMetered {
                return try await relayStreaming(upstreamRequest, inspection: inspection, exchange: exchange)
            }
            return try await relayBuffered(upstreamRequest, inspection: inspection, exchange: exchange)
        } catch let error as RequestError {
            return refuse(error, exchange: exchange)
        } catch let error as UpstreamError {
            return refuse(Self.requestError(for: error), exchange: exchange)
        } catch {
            logger.error("Unexpected proxy failure", metadata: ["request_id": "\(exchange.requestID)", "error": "\(error)"])
            return refuse(RequestError(.upstreamUnavailable, "Tollgate failed to forward the request: \(error)"), exchange: exchange)
        }
    }

    // MARK: Stages

    private func route(_ request: Request, _ exchange: inout Exchange) throws -> ProviderRouter.Route {
        // Normalized once: every later stage and the provider see the same path.
        let target = try RequestTarget.normalize(request.uri.string)
        guard let route = router.route(target) else {
            let names = router.all.map(\.name).joined(separator: ", ")
            throw RequestError(
                .notFound,
                "No provider matches '\(request.uri.path)'. Start the path with a provider name (\(names)), e.g. /openai/v1/chat/completions, or configure one with TOLLGATE_<NAME>_BASE_URL.")
        }
        exchange.provider = route.provider.name
        exchange.format = route.provider.format
        exchange.endpoint = route.endpoint
        return route
    }

    private func readBody(_ request: Request, _ exchange: inout Exchange) async throws -> ByteBuffer {
        do {
            let body = try await request.body.collect(upTo: settings.maxBodyBytes)
            exchange.bytesIn = Int64(body.readableBytes)
            return body
        } catch is NIOTooManyBytesError {
            throw RequestError(.requestTooLarge, "The request body is over the \(settings.maxBodyBytes >> 20) MiB limit (max_body_bytes).")
        } catch {
            // The connection closed under the body: the client went away, or sent it slower than
            // limits.body_timeout allows.
            throw RequestError(.requestTimeout, "The request body did not arrive whole (\(error)); send it within limits.body_timeout.")
        }
    }

    private func inspect(
        _ request: Request, _ body: ByteBuffer, route: ProviderRouter.Route, _ exchange: inout Exchange
    ) throws -> RequestInspection {
        guard route.endpoint.isMetered else { return RequestInspection() }
        let inspection = try RequestInspector.inspect(
            body.readableBytesView, format: route.provider.format, endpoint: route.endpoint, path: route.path,
            canonicalize: cacheMayApply(request, exchange))
        exchange.model = inspection.model ?? ""
        exchange.stream = inspection.stream
        if exchange.attribution.user == nil, let user = inspection.user {
            guard user.utf8.count <= settings.maxAttributionLength else {
                throw RequestError.invalidRequest("The body's user field is \(user.utf8.count) bytes; at most \(settings.maxAttributionLength) are allowed (limits.max_attribution_length).")
            }
            exchange.attribution.user = user
        }
        return inspection
    }

    private func buildUpstreamRequest(_ request: Request, route: ProviderRouter.Route, body: ByteBuffer, swapCredential: Bool) -> UpstreamRequest {
        let connectionTokens = HeaderPolicy.connectionTokens(request.headers[.connection])
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(request.headers.count + 1)
        for field in request.headers {
            let name = field.name.canonicalName
            if HeaderPolicy.forwardsRequestHeader(name, connectionTokens: connectionTokens),
                !(swapCredential && ClientToken.Source(rawValue: name) != nil)
            {
                headers.append((name, field.value))
            }
        }
        // The credential swap (SPEC §3): the provider's documented header carries Tollgate's own key.
        if swapCredential, let apiKey = route.provider.apiKey {
            switch route.provider.format {
            case .openai: headers.append(("authorization", "Bearer " + apiKey))
            case .anthropic: headers.append(("x-api-key", apiKey))
            case .gemini: headers.append(("x-goog-api-key", apiKey))
            }
        }
        return UpstreamRequest(
            url: route.upstreamURL, method: request.method.rawValue, headers: headers,
            body: body.readableBytes > 0 ? body : nil, decodeContent: route.endpoint.isMetered,
            timeouts: settings.timeouts)
    }

    /// Non-streaming metered answers are read whole, so their cost can go in a header before the body.
    private func relayBuffered(_ request: UpstreamRequest, inspection: RequestInspection, exchange: Exchange) async throws -> Response {
        var exchange = exchange
        let answer = try await upstream.buffered(request)
        exchange.timing = answer.timing
        exchange.bytesOut = Int64(answer.body.readableBytes)
        let status = answer.head.status
        var headers = responseHeaders(answer.head, exchange: exchange, decoded: request.decodeContent)
        var event: UsageEvent
        if status < 400 {
            let metered = UsageParser.metered(
                body: answer.body.readableBytesView, format: exchange.format, endpoint: exchange.endpoint,
                estimatedInputTokens: inspection.estimatedInputTokens)
            exchange.model = metered.model ?? exchange.model
            event = exchange.event(status: status, outcome: .ok, usage: metered.usage, source: metered.source)
            price(&event)
            headers[.tollgateCost] = Money.decimalString(event.costNanos)
            cacheAnswer(event, body: Array(answer.body.readableBytesView), exchange)
        } else {
            event = exchange.event(status: status, outcome: .upstreamError)
        }
        record(event, exchange)
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: answer.body))
    }

    /// Fills the event's money fields from its usage and model, after bounding the usage: a
    /// provider's counts are untrusted, and absurd ones are clamped, flagged and logged, never
    /// stored as sent (a negative count would lower every total).
    private func price(_ event: inout UsageEvent) {
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

    /// Streams and unmetered paths pass through chunk by chunk as the provider sends them; metered
    /// streams are observed on the way (usage, and the injected usage chunk removed).
    private func relayStreaming(_ request: UpstreamRequest, inspection: RequestInspection, exchange: Exchange) async throws -> Response {
        let answer = try await upstream.streaming(request)
        let status = answer.head.status
        let headers = responseHeaders(answer.head, exchange: exchange, decoded: request.decodeContent)
        let metered = exchange.endpoint.isMetered && status < 400
        // Gemini's streamGenerateContent without alt=sse answers one JSON array: read usage from a copy at the end.
        let isSSE = answer.head.headers.contains { $0.name == "content-type" && $0.value.hasPrefix("text/event-stream") }
        let handler = self
        let body = ResponseBody { writer in
            var exchange = exchange
            var meter = metered && isSSE ? StreamMeter(format: exchange.format, endpoint: exchange.endpoint, stripUsageChunk: inspection.stripUsageChunk) : nil
            var copy: ByteBuffer? = metered && !isSSE ? ByteBuffer() : nil
            // What the provider sent, for the cache (assembled into one JSON answer at the end).
            var cacheCopy: [UInt8]? = exchange.cacheLease != nil && status == 200 && isSSE ? [] : nil
            var outcome: Outcome = status < 400 ? .ok : .upstreamError
            var failure: String?
            defer {
                exchange.timing = answer.timing
                if let copy {
                    handler.finishJSONStream(exchange, body: copy, inspection: inspection, status: status, outcome: outcome, failure: failure)
                } else {
                    handler.finishStream(
                        exchange, meter: meter, inspection: inspection, status: status, outcome: outcome, failure: failure,
                        cacheCopy: cacheCopy)
                }
            }
            let iterator = answer.body.makeAsyncIterator()
            while true {
                let chunk: ByteBuffer?
                do {
                    chunk = try await iterator.next()
                } catch {
                    // Cut the client's stream the same way (no clean end), so its SDK raises.
                    outcome = (error as? UpstreamError)?.kind == .timeout ? .upstreamTimeout : .upstreamDropped
                    failure = "\(error)"
                    throw error
                }
                if let chunk, cacheCopy != nil {
                    if cacheCopy!.count + chunk.readableBytes <= Self.maxCachedAnswer {
                        cacheCopy!.append(contentsOf: chunk.readableBytesView)
                    } else {
                        cacheCopy = nil
                    }
                }
                let out: ByteBuffer
                switch chunk {
                case let chunk? where inspection.stripUsageChunk && meter != nil:
                    out = ByteBuffer(bytes: meter!.feed(chunk.readableBytesView))
                case let chunk?:
                    // Forwarded as it came; the meter only reads it.
                    meter?.observe(chunk.readableBytesView)
                    if copy != nil, copy!.readableBytes < Self.maxMeteredCopy { copy!.writeImmutableBuffer(chunk) }
                    out = chunk
                case nil:
                    out = inspection.stripUsageChunk && meter != nil ? ByteBuffer(bytes: meter!.finish()) : ByteBuffer()
                }
                if out.readableBytes > 0 {
                    do {
                        try await writer.write(out)
                    } catch {
                        answer.cancel()
                        outcome = .clientAbort
                        failure = "The client went away mid-answer."
                        throw error
                    }
                    exchange.bytesOut += Int64(out.readableBytes)
                }
                if chunk == nil { break }
            }
            try await writer.finish(nil)
        }
        return Response(status: .init(code: status), headers: headers, body: body)
    }

    /// Largest non-SSE streamed answer copied for metering.
    static let maxMeteredCopy = 16 << 20
    /// Largest streamed answer copied for the cache; longer ones are not cached.
    static let maxCachedAnswer = 8 << 20

    /// Records a streamed answer that was one JSON document (Gemini without `alt=sse`).
    private func finishJSONStream(
        _ exchange: Exchange, body: ByteBuffer, inspection: RequestInspection, status: Int, outcome: Outcome, failure: String?
    ) {
        var exchange = exchange
        let metered = UsageParser.metered(
            body: body.readableBytesView, format: exchange.format, endpoint: exchange.endpoint,
            estimatedInputTokens: inspection.estimatedInputTokens)
        exchange.model = metered.model ?? exchange.model
        var event = exchange.event(status: status, outcome: outcome, usage: metered.usage, source: metered.source, error: failure)
        price(&event)
        if exchange.cacheLease != nil, status == 200 {
            cacheAnswer(event, body: StreamAssembler.assemble(Array(body.readableBytesView), format: exchange.format, endpoint: exchange.endpoint), exchange)
        }
        record(event, exchange)
    }

    /// Records a finished (or cut) stream with the usage it showed.
    private func finishStream(
        _ exchange: Exchange, meter: StreamMeter?, inspection: RequestInspection, status: Int, outcome: Outcome, failure: String?,
        cacheCopy: [UInt8]?
    ) {
        guard let meter else {
            record(exchange.event(status: status, outcome: outcome, error: failure), exchange)
            return
        }
        var exchange = exchange
        exchange.model = meter.model ?? exchange.model
        let (usage, source) = meter.result(estimatedInputTokens: inspection.estimatedInputTokens)
        var event = exchange.event(status: status, outcome: outcome, usage: usage, source: source, error: failure)
        price(&event)
        if let cacheCopy {
            cacheAnswer(event, body: StreamAssembler.assemble(cacheCopy, format: exchange.format, endpoint: exchange.endpoint), exchange)
        }
        record(event, exchange)
    }

    /// The last stage, on every path: settles the budget reservation and the key's token bucket
    /// with what the request actually used, then hands its usage event to the writer.
    func record(_ event: UsageEvent, _ exchange: Exchange) {
        exchange.cacheLease?.complete(nil)
        if let reservation = exchange.reservation {
            access.alerts.fire(access.ledger.settle(reservation, costNanos: event.costNanos))
        }
        if let key = exchange.key, let tokens = exchange.admittedTokens {
            access.limiter.settle(
                keyID: key.id, tpm: key.tpmLimit, estimatedTokens: tokens,
                actualTokens: event.usage.totalTokens)
        }
        if !event.priced, event.outcome == .ok, event.endpoint.isMetered {
            access.noteUnpriced(model: event.model, provider: event.provider)
        }
        recorder.record(event)
    }

    // MARK: Responses

    private func responseHeaders(_ head: UpstreamHead, exchange: Exchange, decoded: Bool) -> HTTPFields {
        var fields = HTTPFields()
        fields.reserveCapacity(head.headers.count + 3)
        for (name, value) in head.headers where HeaderPolicy.forwardsResponseHeader(name, decodedBody: decoded) {
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        fields[.tollgateRequestID] = exchange.requestID
        if let status = exchange.cacheStatus { fields[.tollgateCache] = status }
        return fields
    }

    /// Answers with Tollgate's own error, in the route's provider format, and records it.
    private func refuse(_ error: RequestError, exchange: Exchange) -> Response {
        record(exchange.event(status: error.status, outcome: error.outcome, error: error.message), exchange)
        if error.status >= 500 {
            logger.warning("\(error.message)", metadata: ["request_id": "\(exchange.requestID)", "provider": "\(exchange.provider)"])
        }
        var headers: HTTPFields = [.contentType: "application/json", .tollgateRequestID: exchange.requestID]
        for (name, value) in ErrorRenderer.headers(error) {
            if let fieldName = HTTPField.Name(name) { headers[fieldName] = value }
        }
        let body = ErrorRenderer.body(error, format: exchange.format)
        return Response(status: .init(code: error.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func requestError(for error: UpstreamError) -> RequestError {
        switch error.kind {
        case .timeout: RequestError(.upstreamTimeout, "\(error.message) Retry, or raise TOLLGATE_FIRST_BYTE_TIMEOUT / TOLLGATE_CONNECT_TIMEOUT.")
        case .unavailable, .dropped, .cancelled: RequestError(.upstreamUnavailable, "\(error.message) Check the provider's base URL and that it is up.")
        }
    }
}

extension HTTPField.Name {
    static let tollgateRequestID = Self("X-Tollgate-Request-Id")!
    static let tollgateCost = Self("X-Tollgate-Cost-USD")!
    static let tollgateSaved = Self("X-Tollgate-Saved-USD")!
    static let tollgateCache = Self("X-Tollgate-Cache")!
    static let tollgateCacheTTL = Self("X-Tollgate-Cache-TTL")!
    static let tollgateCacheSource = Self("X-Tollgate-Cache-Source")!
}
