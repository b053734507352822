import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TollgateCore
import TollgateUpstream

/// Exports one span per proxied request to an OTLP/HTTP collector (SPEC §15), off the request
/// path: settling a request appends its span to a bounded queue (one lock, no encoding); this
/// service encodes and posts batches through libcurl, like every upstream call, every
/// `OTEL_BSP_SCHEDULE_DELAY` or as soon as a batch is full. A full queue drops new spans (counted
/// and logged) rather than hold memory or slow requests; a collector that fails loses that batch,
/// with a warning at most once a minute. Shutdown exports what is queued: the service stops after
/// the server has drained and before the libcurl drivers do.
final class SpanExporter: Service, Sendable {
    private let settings: TracingSettings
    private let upstream: any UpstreamClient
    private let logger: Logger
    private let queue = Mutex<(spans: [FinishedSpan], dropped: Int)>(([], 0))
    private let wake: AsyncStream<Void>
    private let wakeUp: AsyncStream<Void>.Continuation

    static let version = "1"
    static let timeouts = UpstreamTimeouts(connectMs: 5_000, firstByteMs: 10_000, idleMs: 10_000)

    init(settings: TracingSettings, upstream: any UpstreamClient, logger: Logger) {
        self.settings = settings
        self.upstream = upstream
        self.logger = logger
        (wake, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues a finished request's span.
    func record(_ span: FinishedSpan) {
        let full = queue.withLock { queue -> Bool in
            guard queue.spans.count < settings.maxQueueSize else {
                queue.dropped += 1
                return false
            }
            queue.spans.append(span)
            return queue.spans.count == settings.maxBatchSize
        }
        if full { wakeUp.yield() }
    }

    func run() async {
        let delay = Duration.milliseconds(settings.scheduleDelayMs)
        var lastWarningMs: Int64?
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { [wakeUp] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: delay)
                        wakeUp.yield()
                    }
                }
                for await _ in wake { await exportQueued(&lastWarningMs) }
                group.cancelAll()
            }
        } onGracefulShutdown: { [wakeUp] in
            wakeUp.finish()
        }
        await exportQueued(&lastWarningMs)
    }

    /// Posts every queued span, a batch at a time.
    private func exportQueued(_ lastWarningMs: inout Int64?) async {
        while true {
            let (batch, dropped) = queue.withLock { queue -> ([FinishedSpan], Int) in
                let batch = Array(queue.spans.prefix(settings.maxBatchSize))
                queue.spans.removeFirst(batch.count)
                defer { queue.dropped = 0 }
                return (batch, queue.dropped)
            }
            if dropped > 0 {
                logger.warning(
                    "Dropped \(dropped) trace spans: the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE \(settings.maxQueueSize)); the collector is slow or the delay too long")
            }
            guard !batch.isEmpty else { return }
            await export(batch, &lastWarningMs)
        }
    }

    private func export(_ batch: [FinishedSpan], _ lastWarningMs: inout Int64?) async {
        let body = OTLPTraceEncoder.encode(
            batch, serviceName: settings.serviceName, resource: settings.resource.map { ($0.key, $0.value) }, version: Self.version)
        var headers: [(name: String, value: String)] = [("content-type", "application/json")]
        headers += settings.headers.map { ($0.key.lowercased(), $0.value) }
        let request = UpstreamRequest(
            url: settings.tracesURL, method: "POST", headers: headers, body: ByteBuffer(bytes: body), decodeContent: true,
            timeouts: Self.timeouts)
        let problem: String?
        do {
            let answer = try await upstream.buffered(request)
            problem = answer.head.status < 300 ? nil : "the collector answered HTTP \(answer.head.status)"
        } catch {
            problem = "\(error)"
        }
        guard let problem else { return }
        let now = Int64(monotonicNanos() / 1_000_000)
        if let last = lastWarningMs, now - last < 60_000 { return }
        lastWarningMs = now
        logger.warning(
            "Could not export \(batch.count) trace spans to \(settings.tracesURL): \(problem) (further failures are logged once a minute)")
    }
}
