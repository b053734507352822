import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes a client connection whose request head or body arrives too slowly.
///
/// Hummingbird's idle timeout (`limits.keepalive_timeout`) closes a connection that sends
/// nothing, but a client that trickles a byte every few seconds (slowloris) never looks idle
/// while its head is still incomplete, and one that trickles a body holds its request open as
/// long as it likes. Two clocks fix that, as nginx's `client_header_timeout` and
/// `client_body_timeout` do: a request's head must be whole within `limits.header_timeout` of
/// its first byte, and its body within `limits.body_timeout` of the head. Written by hand
/// because neither Hummingbird nor NIO has such a handler.
///
/// Sits after the HTTP codec (it sees request parts); on being added it puts a small
/// `FirstByteWatcher` in front of the decoder so the header clock starts with the first raw
/// byte. Both live on the channel's event loop.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let headerTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    /// True between requests: the next bytes start a new head.
    private var awaitingHead = true
    /// When the connection closes unless the request moves on (nil: no clock running).
    private var deadline: NIODeadline?
    /// One timer per connection, at `timerAt`. Moving the deadline later leaves it alone; when it
    /// fires it goes again for the deadline then in force, so a keep-alive connection schedules
    /// about one task per header timeout instead of two per request (scheduling and cancelling
    /// per request cost measurable throughput).
    private var timer: Scheduled<Void>?
    private var timerAt: NIODeadline = .distantPast

    init(headerTimeout: TimeAmount, bodyTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.pipeline.syncOperations.addHandler(FirstByteWatcher(owner: self), position: .first)
    }

    func handlerRemoved(context: ChannelHandlerContext) { stopTimer() }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            awaitingHead = false
            setDeadline(.now() + bodyTimeout, context)
        case .body: break
        case .end:
            awaitingHead = true
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    /// Raw bytes arrived: when they start a request, its head's clock starts.
    fileprivate func bytesArrived(context: ChannelHandlerContext) {
        guard awaitingHead, deadline == nil else { return }
        setDeadline(.now() + headerTimeout, context)
    }

    private func setDeadline(_ new: NIODeadline, _ context: ChannelHandlerContext) {
        deadline = new
        guard timer == nil || timerAt > new else { return }
        timer?.cancel()
        schedule(at: new, context)
    }

    private func schedule(at when: NIODeadline, _ context: ChannelHandlerContext) {
        timerAt = when
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: when) { [weak self] in
            guard let self else { return }
            self.timer = nil
            guard let deadline = self.deadline else { return }
            if deadline <= .now() {
                context.close(promise: nil)
            } else {
                self.schedule(at: deadline, context)
            }
        }
    }

    private func stopTimer() {
        timer?.cancel()
        timer = nil
        deadline = nil
    }
}

/// Tells its `RequestDeadlineHandler` when raw request bytes arrive, before the HTTP decoder.
private final class FirstByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let owner: RequestDeadlineHandler

    init(owner: RequestDeadlineHandler) { self.owner = owner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        owner.bytesArrived(context: context)
        context.fireChannelRead(data)
    }
}
