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
        /// The format of this path's bodies, answers and errors (`WireFormat.bodyFormat`):
        /// `.openai`, `.anthropic`, `.gemini` or `.bedrock`, never `.azure` or `.vertex`.
        package var format: ProviderFormat
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
        // Scanned as UTF-8 (every delimiter is ASCII, so these indices are valid `String` indices):
        // `Character` scanning showed up per request.
        let bytes = target.utf8
        let pathEnd = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex
        guard bytes.first == UInt8(ascii: "/") else { return nil }
        let afterSlash = bytes.index(after: bytes.startIndex)
        let segmentEnd = bytes[afterSlash..<pathEnd].firstIndex(of: UInt8(ascii: "/")) ?? pathEnd
        let segment = target[afterSlash..<segmentEnd]

        let provider: Provider
        let rest: Substring
        if segment.utf8.elementsEqual("v1".utf8), let openai = providers["openai"] {
            provider = openai
            rest = target[..<pathEnd]
        } else if let named = providers[segment] {
            provider = named
            rest = target[segmentEnd..<pathEnd]
        } else {
            return nil
        }
        let wire = provider.format.wire
        guard let base = wire.upstreamBase(provider.baseURL, path: rest) else { return nil }
        return Route(
            provider: provider,
            path: rest,
            endpoint: wire.endpoint(forPath: rest),
            format: wire.bodyFormat(forPath: rest),
            upstreamURL: base + target[rest.startIndex...]
        )
    }
}
