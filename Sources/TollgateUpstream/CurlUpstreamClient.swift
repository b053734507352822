import CCurl
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The `UpstreamClient` on libcurl's multi interface: keep-alive connection reuse per provider,
/// HTTP/2 where the provider offers it, TLS through OpenSSL with verification on.
///
/// Requests are spread over `drivers` threads, each with its own multi handle. As a `Service`
/// it stops after the services that use it (the server drains first), letting transfers end.
package final class CurlUpstreamClient: UpstreamClient, Service {
    /// Chunks buffered for a slow client before the transfer pauses (libcurl delivers ≤ 16 KiB each).
    private static let backpressure = NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark(
        lowWatermark: 8, highWatermark: 64)

    private let drivers: [CurlMultiDriver]
    private let next = Atomic<Int>(0)

    package init(drivers count: Int = 1, logger: Logger) {
        precondition(curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK, "curl_global_init failed")
        drivers = (0..<max(1, count)).map { CurlMultiDriver(name: "tollgate-curl-\($0)", logger: logger) }
        for driver in drivers { driver.start() }
    }

    package func run() async throws {
        try? await gracefulShutdown()
        for driver in drivers { await driver.stop() }
    }

    private func pickDriver() -> CurlMultiDriver {
        if drivers.count == 1 { return drivers[0] }
        return drivers[next.wrappingAdd(1, ordering: .relaxed).oldValue % drivers.count]
    }

    package func buffered(_ request: UpstreamRequest) async throws -> BufferedResponse {
        let driver = pickDriver()
        return try await withCheckedThrowingContinuation { continuation in
            let id = driver.makeTransferID()
            let handle = TransferHandle(driver: driver, transferID: id)
            start(request, id: id, handle: handle, sink: .buffered(continuation), body: nil, driver: driver) {
                continuation.resume(throwing: $0)
            }
        }
    }

    package func streaming(_ request: UpstreamRequest) async throws -> StreamingResponse {
        let driver = pickDriver()
        return try await withCheckedThrowingContinuation { continuation in
            let id = driver.makeTransferID()
            let handle = TransferHandle(driver: driver, transferID: id)
            let producer = StreamingResponse.Body.makeSequence(
                elementType: ByteBuffer.self, backPressureStrategy: Self.backpressure, finishOnDeinit: false,
                delegate: handle)
            start(
                request, id: id, handle: handle, sink: .streaming(head: continuation, source: producer.source),
                body: producer.sequence, driver: driver
            ) { continuation.resume(throwing: $0) }
        }
    }

    /// Builds the easy handle on the caller's thread (spreading that work over cores) and hands it off.
    private func start(
        _ request: UpstreamRequest, id: UInt64, handle: TransferHandle, sink: CurlTransfer.Sink,
        body: StreamingResponse.Body?, driver: CurlMultiDriver, fail: (UpstreamError) -> Void
    ) {
        guard let transfer = CurlTransfer(id: id, request: request, handle: handle, sink: sink, now: monotonicNanos()) else {
            fail(UpstreamError(.unavailable, "libcurl could not create a transfer."))
            return
        }
        transfer.body = body
        transfer.configure(userdata: Unmanaged.passUnretained(transfer).toOpaque())
        driver.submit(.add(transfer))
        // After the add: the driver runs commands in order, so a cancel never overtakes its transfer.
        request.cancellation?.onFire { handle.cancel() }
    }

    package var activeTransfers: Int {
        drivers.reduce(0) { $0 + $1.activeTransfers.load(ordering: .relaxed) }
    }
}
