import Hummingbird
import TollgateCore

/// Which provider and endpoint a request is for (SPEC §2), from its path normalized once: every
/// later stage and the provider see the same path.
struct RouteStage: Sendable {
    let router: ProviderRouter

    func route(_ request: Request, _ exchange: inout Exchange) throws -> ProviderRouter.Route {
        let target = try RequestTarget.normalize(request.uri.string)
        guard let route = router.route(target) else {
            let segment = target.split(separator: "/").first.map(String.init) ?? ""
            if router.provider(named: segment) != nil {
                throw RequestError.invalidRequest(
                    "'\(request.uri.path)' names no host for provider '\(segment)': its paths name a location as /v1/projects/P/locations/L/… (lower-case letters, digits and '-').")
            }
            if let known = Provider.knownFormats[segment] {
                // The refusal is in the shape the provider's own SDK reads.
                exchange.format = known.wire.bodyFormat(forPath: "")
                throw RequestError(
                    .providerNotConfigured,
                    known == .bedrock
                        ? "Provider 'bedrock' is not set up on this server. Set TOLLGATE_BEDROCK_REGION and TOLLGATE_BEDROCK_ACCESS_KEY_ID / TOLLGATE_BEDROCK_SECRET_ACCESS_KEY."
                        : "Provider '\(segment)' has no base URL on this server. Set TOLLGATE_\(segment.uppercased())_BASE_URL to your resource's endpoint (e.g. https://NAME.openai.azure.com) and TOLLGATE_\(segment.uppercased())_API_KEY.")
            }
            let names = router.all.map(\.name).joined(separator: ", ")
            throw RequestError(
                .notFound,
                "No provider matches '\(request.uri.path)'. Start the path with a provider name (\(names)), e.g. /openai/v1/chat/completions, or configure one with TOLLGATE_<NAME>_BASE_URL.")
        }
        exchange.provider = route.provider.name
        exchange.format = route.format
        exchange.endpoint = route.endpoint
        return route
    }
}
