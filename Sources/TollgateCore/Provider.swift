/// An upstream LLM API that Tollgate forwards to.
///
/// `baseURL` excludes the provider's version segment: the client's path after the provider
/// segment (`/v1/chat/completions`) is appended to it, so it may carry a prefix of its own
/// (`https://gw.example.com/openai`).
package struct Provider: Sendable, Equatable {
    package var name: String
    package var baseURL: String
    package var format: ProviderFormat
    /// The credential used for requests made with a Tollgate key; never logged.
    package var apiKey: String?

    package init(name: String, baseURL: String, format: ProviderFormat, apiKey: String? = nil) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.format = format
        self.apiKey = apiKey
    }

    /// The providers every Tollgate knows, at their public URLs (SPEC §2).
    package static let builtIn: [Provider] = [
        Provider(name: "openai", baseURL: "https://api.openai.com", format: .openai),
        Provider(name: "anthropic", baseURL: "https://api.anthropic.com", format: .anthropic),
        Provider(name: "gemini", baseURL: "https://generativelanguage.googleapis.com", format: .gemini),
        Provider(name: "groq", baseURL: "https://api.groq.com/openai", format: .openai),
        Provider(name: "mistral", baseURL: "https://api.mistral.ai", format: .openai),
        Provider(name: "deepseek", baseURL: "https://api.deepseek.com", format: .openai),
        Provider(name: "together", baseURL: "https://api.together.xyz", format: .openai),
        Provider(name: "openrouter", baseURL: "https://openrouter.ai/api", format: .openai),
        Provider(name: "xai", baseURL: "https://api.x.ai", format: .openai),
        Provider(name: "fireworks", baseURL: "https://api.fireworks.ai/inference", format: .openai),
        // The host is the region the path names (`VertexWireFormat.upstreamBase`).
        Provider(name: "vertex", baseURL: "https://{location}-aiplatform.googleapis.com", format: .vertex),
    ]

    /// Providers known by name whose base URL is each customer's own (SPEC §14): configured with
    /// `TOLLGATE_<NAME>_BASE_URL` alone, their format implied.
    package static let knownFormats: [String: ProviderFormat] = ["azure": .azure, "bedrock": .bedrock]
}
