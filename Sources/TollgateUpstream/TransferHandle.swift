import NIOCore
import Synchronization

/// The consumer's side of one transfer: cancels it, resumes it after backpressure, reads timing.
///
/// It is the body sequence's delegate, so a consumer that stops reading (or drops the sequence)
/// reaches the driver thread through it.
package final class TransferHandle: NIOAsyncSequenceProducerDelegate, Sendable {
    private let driver: CurlMultiDriver
    // The transfer is only touched on the driver thread; the handle only passes its id along.
    private let transferID: UInt64
    let firstByteNanos = Atomic<UInt64>(0)
    let totalNanos = Atomic<UInt64>(0)

    init(driver: CurlMultiDriver, transferID: UInt64) {
        self.driver = driver
        self.transferID = transferID
    }

    package func produceMore() { driver.submit(.resume(transferID)) }
    package func didTerminate() { driver.submit(.cancel(transferID)) }
    package func cancel() { driver.submit(.cancel(transferID)) }

    package var timing: UpstreamTiming {
        let first = firstByteNanos.load(ordering: .relaxed)
        return UpstreamTiming(firstByteNanos: first == 0 ? nil : first, totalNanos: totalNanos.load(ordering: .relaxed))
    }
}
