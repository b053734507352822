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
    /// The admin API's caller, set by `AdminAuthMiddleware` before an admin route runs.
    var principal: AdminPrincipal?
    /// The same caller as the audit log names it (id and address).
    var actor: AuditActor?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// The TCP peer (never a forwarded-for header, which any client can write).
    var remoteAddress: SocketAddress? { channel.remoteAddress }

    /// The authenticated admin caller. Admin routes sit behind `AdminAuthMiddleware`, so this only
    /// throws for a route registered outside it (a programming error, answered 401, never served).
    func requirePrincipal() throws(AdminError) -> AdminPrincipal {
        guard let principal else {
            throw AdminError(.unauthorized, code: "invalid_api_key", "This admin route is not behind the admin authentication.")
        }
        return principal
    }

    /// The authenticated admin caller as the audit log names it (see `requirePrincipal`).
    func requireActor() throws(AdminError) -> AuditActor {
        guard let actor else {
            throw AdminError(.unauthorized, code: "invalid_api_key", "This admin route is not behind the admin authentication.")
        }
        return actor
    }
}
