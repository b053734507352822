import NIOCore

/// An answer whose body is still arriving.
///
/// Iterate `body` to receive chunks as the provider sends them; it throws `UpstreamError` if the
/// transfer fails mid-way. Dropping the sequence or calling `cancel()` cancels the transfer.
package struct StreamingResponse: Sendable {
    package typealias Body = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, TransferHandle
    >

    package var head: UpstreamHead
    package var body: Body
    package var handle: TransferHandle

    /// Stops the transfer; the body sequence then ends with a `cancelled` error.
    package func cancel() { handle.cancel() }
    /// Timing so far; complete once the body has ended.
    package var timing: UpstreamTiming { handle.timing }
}
