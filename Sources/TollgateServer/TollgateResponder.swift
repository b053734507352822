import Hummingbird

/// The top of the request path: Tollgate's own endpoints go to the router, everything else is
/// proxied — without a router lookup on the hot path.
struct TollgateResponder: HTTPResponder {
    typealias Context = TollgateRequestContext

    let proxy: ProxyHandler
    let local: RouterResponder<TollgateRequestContext>

    func respond(to request: Request, context: Context) async throws -> Response {
        if Self.isLocal(request.uri.path) {
            return try await local.respond(to: request, context: context)
        }
        return await proxy.handle(request, channel: context.channel)
    }

    /// Paths Tollgate answers itself (`reservedNames`, which no provider may take).
    static func isLocal(_ path: String) -> Bool {
        guard path.utf8.count > 1 else { return false }
        return path == "/healthz" || path == "/readyz" || path == "/metrics" || path.hasPrefix("/admin")
            || path.hasPrefix("/dashboard") || path.hasPrefix("/tollgate/")
    }

    /// First path segments Tollgate keeps for its own endpoints (`/tollgate/…` is its own API, SPEC §13).
    static let reservedNames: Set<String> = ["admin", "dashboard", "healthz", "readyz", "metrics", "tollgate"]
}
