/// Maps a client's request path to a provider and the upstream URL (SPEC §2).
///
/// The first path segment names the provider and the rest is appended to its base URL;
/// a path that starts with `/v1/` means OpenAI, so SDKs pointed at `http://host:port/v1` work.
package struct ProviderRouter: Sendable {
    /// The outcome of routing one request.
    package struct Route: Sendable, Equatable {
        package var provider: Provider
        /// The path after the provider segment, query excluded (`/v1/chat/completions`).
        package var path: Substring
        package var endpoint: Endpoint
        /// The full URL to call upstream, query included.
        package var upstreamURL: String
    }

    private let providers: [Substring: Provider]

    package init(providers: [Provider]) {
        var table: [Substring: Provider] = [:]
        for provider in providers { table[Substring(provider.name)] = provider }
        self.providers = table
    }

    /// Every configured provider, sorted by name (for startup logs and error messages).
    package var all: [Provider] { providers.values.sorted { $0.name < $1.name } }

    package func provider(named name: String) -> Provider? { providers[Substring(name)] }

    /// Routes `target` (a request path with optional query), or returns nil for an unknown provider.
    package func route(_ target: String) -> Route? {
        let pathEnd = target.firstIndex(of: "?") ?? target.endIndex
        let path = target[..<pathEnd]
        guard path.hasPrefix("/") else { return nil }
        let afterSlash = path.index(after: path.startIndex)
        let segmentEnd = path[afterSlash...].firstIndex(of: "/") ?? path.endIndex
        let segment = path[afterSlash..<segmentEnd]

        let provider: Provider
        let rest: Substring
        if segment == "v1", let openai = providers["openai"] {
            provider = openai
            rest = path
        } else if let named = providers[segment] {
            provider = named
            rest = path[segmentEnd...]
        } else {
            return nil
        }
        let query = target[pathEnd...]
        return Route(
            provider: provider,
            path: rest,
            endpoint: Endpoint.classify(format: provider.format, path: rest),
            upstreamURL: provider.baseURL + rest + query
        )
    }
}
