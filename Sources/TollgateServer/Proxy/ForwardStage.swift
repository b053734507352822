import Hummingbird
import NIOCore
import TollgateCore
import TollgateUpstream

/// The request as the provider receives it: hop-by-hop and `X-Tollgate-*` headers dropped, the
/// credential swapped for a Tollgate key, the body as inspection left it.
struct ForwardStage: Sendable {
    let settings: ProxySettings
    /// Providers whose credential is a token Tollgate obtains (Vertex AI's service account), by name.
    var tokens: [String: VertexAccessTokens] = [:]

    func upstreamRequest(
        _ request: Request, route: ProviderRouter.Route, body: ByteBuffer, swapCredential: Bool, cancellation: CancellationSignal
    ) async throws(RequestError) -> UpstreamRequest {
        let connectionTokens = HeaderPolicy.connectionTokens(request.headers[.connection])
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(request.headers.count + 1)
        for field in request.headers {
            let name = field.name.canonicalName
            if HeaderPolicy.forwardsRequestHeader(name, connectionTokens: connectionTokens),
                !(swapCredential && ClientToken.Source(rawValue: name) != nil)
            {
                headers.append((name, field.value))
            }
        }
        // The credential swap (SPEC §3): the provider's documented header carries Tollgate's own key.
        if swapCredential, let tokens = tokens[route.provider.name] {
            headers.append(route.provider.format.wire.credentialHeader(apiKey: try await tokens.token()))
        } else if swapCredential, let apiKey = route.provider.apiKey {
            headers.append(route.provider.format.wire.credentialHeader(apiKey: apiKey))
        }
        return UpstreamRequest(
            url: route.upstreamURL, method: request.method.rawValue, headers: headers,
            body: body.readableBytes > 0 ? body : nil, decodeContent: route.endpoint.isMetered,
            timeouts: settings.timeouts, cancellation: cancellation)
    }
}
