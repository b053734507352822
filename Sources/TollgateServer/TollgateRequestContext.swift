import Hummingbird
import NIOCore

/// Per-request state of Tollgate's routes: Hummingbird's core storage plus the connection, so the
/// admin API can tell clients apart by their address (`AdminThrottle`).
///
/// Only the channel reference is kept; the peer address is read when a route asks for it, so the
/// proxy path, which never does, pays nothing more than with `BasicRequestContext`.
struct TollgateRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// The TCP peer (never a forwarded-for header, which any client can write).
    var remoteAddress: SocketAddress? { channel.remoteAddress }
}
