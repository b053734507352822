import NIOCore

/// One call to a provider, ready to send.
package struct UpstreamRequest: Sendable {
    package var url: String
    package var method: String
    /// Headers to send as they are; framing headers are set by the client.
    package var headers: [(name: String, value: String)]
    package var body: ByteBuffer?
    /// Ask for compressed transfer and decode it on the way, so the body can be metered.
    package var decodeContent: Bool
    package var timeouts: UpstreamTimeouts
    /// Fired when the answer is no longer wanted: the transfer is cancelled at once, whether it
    /// is still waiting for the head or streaming the body.
    package var cancellation: CancellationSignal?

    package init(
        url: String, method: String, headers: [(name: String, value: String)], body: ByteBuffer?,
        decodeContent: Bool, timeouts: UpstreamTimeouts, cancellation: CancellationSignal? = nil
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.decodeContent = decodeContent
        self.timeouts = timeouts
        self.cancellation = cancellation
    }
}

/// Upstream time limits in milliseconds (SPEC §1 `TOLLGATE_*_TIMEOUT`).
package struct UpstreamTimeouts: Sendable, Equatable {
    package var connectMs: Int
    /// From the start of the transfer to the first byte of the answer.
    package var firstByteMs: Int
    /// Longest silence between two chunks of the answer.
    package var idleMs: Int

    package init(connectMs: Int = 10_000, firstByteMs: Int = 300_000, idleMs: Int = 300_000) {
        self.connectMs = connectMs
        self.firstByteMs = firstByteMs
        self.idleMs = idleMs
    }
}

/// Status line and headers of a provider's answer (names lower-cased).
package struct UpstreamHead: Sendable {
    package var status: Int
    package var headers: [(name: String, value: String)]
}

/// When the answer's parts arrived, in nanoseconds since the transfer started.
package struct UpstreamTiming: Sendable {
    package var firstByteNanos: UInt64?
    package var totalNanos: UInt64
}

/// A whole answer, read to the end.
package struct BufferedResponse: Sendable {
    package var head: UpstreamHead
    package var body: ByteBuffer
    package var timing: UpstreamTiming
}

/// Why an upstream call failed (Caddy's model: unreachable → 502, timeout → 504).
package struct UpstreamError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// Could not connect, resolve or complete TLS; nothing was received.
        case unavailable
        /// A connect, first-byte or idle limit passed.
        case timeout
        /// The connection broke after the answer had started.
        case dropped
        /// Tollgate cancelled it (the client went away).
        case cancelled
    }

    package var kind: Kind
    package var message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    package var description: String { message }
}

/// Sends requests to providers. Implementations must never block the caller's thread.
package protocol UpstreamClient: Sendable {
    /// Sends `request` and reads the whole answer. Throws `UpstreamError`.
    func buffered(_ request: UpstreamRequest) async throws -> BufferedResponse
    /// Sends `request` and returns as soon as the head arrives; the body streams with backpressure.
    /// Throws `UpstreamError`, before the head and from the body sequence.
    func streaming(_ request: UpstreamRequest) async throws -> StreamingResponse
    /// Transfers open now (sent and not yet ended), for `/metrics`.
    var activeTransfers: Int { get }
}
