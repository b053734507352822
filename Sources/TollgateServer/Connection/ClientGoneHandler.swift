import NIOCore
import Synchronization
import TollgateUpstream

/// Notices a client going away while its request is still being answered, when it happens.
///
/// Without it a client that closes its connection is noticed only when the proxy next writes to
/// it: a non-streaming request waits for the whole answer (minutes, for a slow model), holding its
/// budget reservation and its provider transfer, and is then recorded `ok`. This handler sees the
/// close (`channelInactive`) or the half-close (`ChannelEvent.inputClosed`; Hummingbird allows
/// remote half-closure) on the event loop and fires the cancellation signal of the request in
/// progress, which cancels its provider transfer or its wait on a coalesced cache entry.
///
/// Sits after the HTTP codec and passes every event on unchanged.
final class ClientGoneHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any

    private let watch = ConnectionWatch()
    private var key: ObjectIdentifier?

    func handlerAdded(context: ChannelHandlerContext) {
        let key = ObjectIdentifier(context.channel)
        self.key = key
        ConnectionWatch.table.withLock { $0[key] = watch }
    }

    func handlerRemoved(context: ChannelHandlerContext) { forget() }

    func channelInactive(context: ChannelHandlerContext) {
        watch.clientLeft()
        forget()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { watch.clientLeft() }
        context.fireUserInboundEventTriggered(event)
    }

    private func forget() {
        guard let key else { return }
        self.key = nil
        ConnectionWatch.table.withLock { _ = $0.removeValue(forKey: key) }
    }
}

/// One connection's client-gone state, shared between its event loop and the request's task.
final class ConnectionWatch: Sendable {
    private let state = Mutex<(gone: Bool, signal: CancellationSignal?)>((false, nil))

    /// The watches of open connections by channel identity. NIO channels carry no storage a
    /// request's task could reach without hopping onto the event loop; a lock-protected table
    /// costs tens of nanoseconds where a hop costs microseconds on every request.
    static let table = Mutex<[ObjectIdentifier: ConnectionWatch]>([:])

    /// Fires `signal` when the client of `channel` goes away, or now if it has. A connection that
    /// carries requests one after another watches only the latest one.
    static func watch(_ channel: any Channel, firing signal: CancellationSignal) {
        guard let watch = table.withLock({ $0[ObjectIdentifier(channel)] }) else {
            // Not a watched connection (closed already, or not served by the HTTP/1 pipeline).
            if !channel.isActive { signal.fire() }
            return
        }
        let goneAlready = watch.state.withLock { state -> Bool in
            if !state.gone { state.signal = signal }
            return state.gone
        }
        if goneAlready { signal.fire() }
    }

    fileprivate func clientLeft() {
        let signal = state.withLock { state -> CancellationSignal? in
            state.gone = true
            defer { state.signal = nil }
            return state.signal
        }
        signal?.fire()
    }
}
