import NIOCore
import NIOHTTP1

/// HTTP/1.x as clients speak it, where Hummingbird's pipeline falls short (RFC 9110 §10.1.1,
/// RFC 9112 §6.1, §9.3):
/// - `Expect: 100-continue` is answered with `100 Continue` at once. curl and PHP's Guzzle send
///   it for bodies over 1 MiB and otherwise wait a second before sending the body anyway.
/// - An HTTP/1.0 request gets an HTTP/1.0 answer: never chunked (1.0 has no chunked coding, so a
///   body of unknown length ends when the connection closes), `Connection: close`, and the
///   connection closed after it; a 1.0 client gets no `100 Continue`.
///
/// Sits between NIO's HTTP/1 codec and the HTTP-types codec, which answers every request as
/// HTTP/1.1 whatever version it came in (`TollgateHTTP1Channel` puts it there).
final class HTTP1CompatibilityHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Versions of the requests not answered yet, oldest first (HTTP/1.1 may pipeline).
    private var versions = CircularBuffer<HTTPVersion>(initialCapacity: 2)
    private var closeAfterResponse = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            versions.append(head.version)
            if head.version == .http1_1, head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code < 200 && head.status != .switchingProtocols:
            // An interim answer: HTTP/1.0 clients do not know 1xx (RFC 9110 §15.2).
            if versions.first == .http1_0 { promise?.succeed(()) } else { context.write(data, promise: promise) }
        case .head(var head):
            guard versions.popFirst() == .http1_0 else { return context.write(data, promise: promise) }
            head.version = .http1_0
            head.headers.replaceOrAdd(name: "connection", value: "close")
            closeAfterResponse = true
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard closeAfterResponse else { return context.write(data, promise: promise) }
            closeAfterResponse = false
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
