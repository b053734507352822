import HTTPTypes
import Hummingbird
import NIOCore
import TollgateCore
import TollgateUpstream

/// The request as the provider receives it: hop-by-hop and `X-Tollgate-*` headers dropped, the
/// credential swapped for a Tollgate key, `traceparent` naming Tollgate's span when tracing is on,
/// the body as inspection left it.
struct ForwardStage: Sendable {
    let settings: ProxySettings
    /// The credential each provider gets on requests made with Tollgate keys, by provider name.
    var credentials: [String: any ProviderCredential] = [:]

    func upstreamRequest(
        _ request: Request, route: ProviderRouter.Route, body: ByteBuffer, swapCredential: Bool, trace: TraceContext?,
        cancellation: CancellationSignal
    ) async throws(RequestError) -> UpstreamRequest {
        let connectionTokens = HeaderPolicy.connectionTokens(request.headers[.connection])
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(request.headers.count + 1)
        for field in request.headers {
            let name = field.name.canonicalName
            if HeaderPolicy.forwardsRequestHeader(name, connectionTokens: connectionTokens),
                !(swapCredential && ClientToken.Source(rawValue: name) != nil), !(trace != nil && name == "traceparent")
            {
                headers.append((name, field.value))
            }
        }
        if let trace { headers.append(("traceparent", trace.traceparent)) }
        var upstream = UpstreamRequest(
            url: route.upstreamURL, method: request.method.rawValue, headers: headers,
            body: body.readableBytes > 0 ? body : nil, decodeContent: route.endpoint.isMetered,
            timeouts: settings.timeouts, cancellation: cancellation)
        // The credential swap (SPEC §3): Tollgate's own credential, as the provider documents it.
        if swapCredential, let credential = credentials[route.provider.name] {
            try await credential.authorize(&upstream)
        }
        return upstream
    }
}
