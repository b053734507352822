import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Stops the accept loop for a moment when the process runs out of file descriptors.
///
/// On EMFILE / ENFILE the listening socket stays readable, and SwiftNIO keeps its read interest
/// while a read is pending, so the event loop wakes, fails `accept`, and wakes again: one core at
/// 100 % doing nothing (measured: 96 % CPU with 300 sockets against 200 descriptors), and
/// NIO's own `AcceptBackoffHandler` only delays the *next* read request. Turning auto-read off
/// takes the socket out of epoll; it goes back in after `pause`, by when timeouts have usually
/// closed some connections. Written by hand: neither NIO nor Hummingbird pauses the socket itself.
/// Sits first in the server channel's pipeline.
final class AcceptPauseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel

    private let pause: TimeAmount
    private var paused = false

    init(pause: TimeAmount = .milliseconds(250)) { self.pause = pause }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError, error.errnoCode == EMFILE || error.errnoCode == ENFILE, !paused {
            paused = true
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
            context.eventLoop.assumeIsolated().scheduleTask(in: pause) { [weak self] in
                self?.paused = false
                try? context.channel.syncOptions?.setOption(.autoRead, value: true)
            }
        }
        context.fireErrorCaught(error)
    }
}
