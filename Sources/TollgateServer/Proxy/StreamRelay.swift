import Hummingbird
import NIOCore
import TollgateCore
import TollgateUpstream

/// One streamed answer on its way to the client: forwards each chunk as the provider sends it,
/// meters it on the way (usage, and the injected usage chunk removed), copies it for the cache,
/// and settles the request when the stream ends, however it ends.
///
/// Hummingbird runs the response body only after writing the head; when the client is already
/// gone it never does and drops it: `deinit` then settles the request as `client_abort` and the
/// dropped body sequence cancels the provider transfer.
final class StreamRelay: Sendable {
    /// Largest non-SSE streamed answer copied for metering.
    static let maxMeteredCopy = 16 << 20
    /// Largest streamed answer copied for the cache; longer ones are not cached.
    static let maxCachedAnswer = 8 << 20

    private let answer: StreamingResponse
    private let inspection: RequestInspection
    private let exchange: Exchange
    private let settlement: Settlement
    private let stage: RelayStage

    init(answer: StreamingResponse, inspection: RequestInspection, exchange: Exchange, settlement: Settlement, stage: RelayStage) {
        self.answer = answer
        self.inspection = inspection
        self.exchange = exchange
        self.settlement = settlement
        self.stage = stage
    }

    deinit {
        var exchange = exchange
        exchange.timing = answer.timing
        settlement.settle(exchange.event(status: answer.head.status, outcome: .clientAbort, error: "The client went away before the answer's head was written."))
    }

    func run(_ writer: inout any ResponseBodyWriter) async throws {
        let status = answer.head.status
        let metered = exchange.endpoint.isMetered && status < 400
        let contentType = answer.head.headers.first { $0.name == "content-type" }?.value ?? ""
        let isSSE = contentType.hasPrefix("text/event-stream")
        let isEventStream = contentType.hasPrefix("application/vnd.amazon.eventstream")
        var meter = metered && isSSE ? StreamMeter(format: exchange.format, endpoint: exchange.endpoint, stripUsageChunk: inspection.stripUsageChunk) : nil
        // Bedrock's streams: AWS event-stream frames.
        var frames = metered && isEventStream ? BedrockStreamMeter() : nil
        // Gemini's streamGenerateContent without alt=sse answers one JSON array: read usage from a copy at the end.
        var copy: ByteBuffer? = metered && !isSSE && !isEventStream ? ByteBuffer() : nil
        // What the provider sent, for the cache (assembled into one JSON answer at the end).
        var cacheCopy: [UInt8]? = settlement.lease != nil && status == 200 && isSSE ? [] : nil
        var outcome: Outcome = status < 400 ? .ok : .upstreamError
        var failure: String?
        // The start of a provider's error answer, for its message.
        var errorHead: ByteBuffer? = status >= 400 ? ByteBuffer() : nil
        var bytesOut: Int64 = 0
        defer {
            // A client that read the provider's final usage event has its whole answer; closing
            // before the stream's last bytes (SDKs stop at `[DONE]`) does not make it abandoned.
            if outcome == .clientAbort, meter?.usageComplete == true || frames?.usageComplete == true { (outcome, failure) = (.ok, nil) }
            // A Bedrock stream that ended in an exception message failed, whatever its status said.
            if outcome == .ok, let exception = frames?.exception {
                (outcome, failure) = (.upstreamError, "The provider ended the stream with \(exception).")
            }
            if failure == nil, let errorHead { failure = ProviderErrorMessage.from(errorHead.readableBytesView) }
            var exchange = exchange
            exchange.timing = answer.timing
            exchange.bytesOut = bytesOut
            if let copy {
                finishJSON(exchange, body: copy, status: status, outcome: outcome, failure: failure)
            } else {
                let usage = meter?.metered(estimatedInputTokens: inspection.estimatedInputTokens)
                    ?? frames?.metered(estimatedInputTokens: inspection.estimatedInputTokens)
                finish(exchange, metered: usage, status: status, outcome: outcome, failure: failure, cacheCopy: cacheCopy)
            }
        }
        let iterator = answer.body.makeAsyncIterator()
        while true {
            let chunk: ByteBuffer?
            do {
                chunk = try await iterator.next()
            } catch {
                if settlement.clientGone.isFired {
                    (outcome, failure) = (.clientAbort, "The client went away mid-answer.")
                } else {
                    // Cut the client's stream the same way (no clean end), so its SDK raises.
                    outcome = (error as? UpstreamError)?.kind == .timeout ? .upstreamTimeout : .upstreamDropped
                    failure = "\(error)"
                }
                throw error
            }
            if let chunk, errorHead != nil, errorHead!.readableBytes < RelayStage.errorPrefix {
                errorHead!.writeImmutableBuffer(chunk.getSlice(at: chunk.readerIndex, length: min(chunk.readableBytes, RelayStage.errorPrefix - errorHead!.readableBytes))!)
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
                frames?.observe(chunk.readableBytesView)
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
                    (outcome, failure) = (.clientAbort, "The client went away mid-answer.")
                    throw error
                }
                bytesOut += Int64(out.readableBytes)
            }
            if chunk == nil { break }
        }
        try await writer.finish(nil)
    }

    /// Settles a streamed answer that was one JSON document (Gemini without `alt=sse`).
    private func finishJSON(_ exchange: Exchange, body: ByteBuffer, status: Int, outcome: Outcome, failure: String?) {
        var exchange = exchange
        let metered = UsageParser.metered(
            body: body.readableBytesView, format: exchange.format, endpoint: exchange.endpoint,
            estimatedInputTokens: inspection.estimatedInputTokens)
        exchange.model = metered.model ?? exchange.model
        var event = exchange.event(status: status, outcome: outcome, usage: metered.usage, source: metered.source, error: failure)
        stage.settle.price(&event)
        if status == 200 {
            stage.cache.store(event, body: StreamAssembler.assemble(Array(body.readableBytesView), format: exchange.format, endpoint: exchange.endpoint), exchange, settlement)
        }
        settlement.settle(event)
    }

    /// Settles a finished (or cut) stream with the usage it showed.
    private func finish(_ exchange: Exchange, metered: MeteredUsage?, status: Int, outcome: Outcome, failure: String?, cacheCopy: [UInt8]?) {
        guard let metered else {
            settlement.settle(exchange.event(status: status, outcome: outcome, error: failure))
            return
        }
        var exchange = exchange
        exchange.model = metered.model ?? exchange.model
        var event = exchange.event(status: status, outcome: outcome, usage: metered.usage, source: metered.source, error: failure)
        stage.settle.price(&event)
        if let cacheCopy {
            stage.cache.store(event, body: StreamAssembler.assemble(cacheCopy, format: exchange.format, endpoint: exchange.endpoint), exchange, settlement)
        }
        settlement.settle(event)
    }
}
