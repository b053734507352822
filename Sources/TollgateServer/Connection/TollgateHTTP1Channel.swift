import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1 child channel with `HTTP1CompatibilityHandler` added where it must sit:
/// before the HTTP-types codec, which Hummingbird's `additionalChannelHandlers` come after.
struct TollgateHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    let inner: HTTP1Channel

    var responder: Responder { inner.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1Channel.Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let codec = try pipeline.context(handlerType: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(HTTP1CompatibilityHandler(), position: .before(codec.handler))
            return value
        }
    }

    func handle(value: HTTP1Channel.Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// `.http1(configuration:)` with Tollgate's HTTP/1.x fixes (`HTTP1CompatibilityHandler`).
    static func tollgateHTTP1(configuration: HTTP1Channel.Configuration) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            TollgateHTTP1Channel(inner: HTTP1Channel(responder: responder, configuration: configuration))
        }
    }
}
