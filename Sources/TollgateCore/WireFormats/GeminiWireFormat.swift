/// Google's Gemini API (generateContent).
struct GeminiWireFormat: WireFormat {
    func bodyFormat(forPath path: Substring) -> ProviderFormat { .gemini }

    func model(inPath path: Substring) -> String? { RequestInspector.geminiModel(path: path) }

    func streams(path: Substring) -> Bool? { self.path(path, endsWith: ":streamGenerateContent") }

    func endpoint(forPath path: Substring) -> Endpoint {
        self.path(path, endsWith: ":generateContent") || self.path(path, endsWith: ":streamGenerateContent") ? .generate : .other
    }

    /// GET /v1beta/models[/{model}] and POST …/models/{model}:countTokens; any other `:method`
    /// on a model (embedContent, predict, …) is billable.
    func isFree(_ rest: ArraySlice<Substring>) -> Bool {
        guard rest.first == "models", rest.count <= 2 else { return false }
        guard rest.count == 2, let colon = rest.last!.firstIndex(of: ":") else { return true }
        return rest.last![colon...] == ":countTokens"
    }

    func credentialHeader(apiKey: String) -> (name: String, value: String) { ("x-goog-api-key", apiKey) }

    func errorBody(_ error: RequestError, quotedMessage message: String, quotedCode code: String) -> String {
        let status: String =
            switch error.code {
            case .invalidAPIKey: "UNAUTHENTICATED"
            case .modelNotAllowed, .modelNotPriced, .endpointNotAllowed: "PERMISSION_DENIED"
            case .invalidRequest, .requestTooLarge: "INVALID_ARGUMENT"
            case .notFound: "NOT_FOUND"
            case .rateLimitExceeded, .budgetExceeded: "RESOURCE_EXHAUSTED"
            case .providerNotConfigured: "INTERNAL"
            case .upstreamUnavailable: "UNAVAILABLE"
            case .upstreamTimeout, .requestTimeout: "DEADLINE_EXCEEDED"
            case .clientGone: "CANCELLED"
            }
        return #"{"error":{"code":\#(error.status),"message":\#(message),"status":\#(JSONText.quoted(status)),"reason":\#(code)}}"#
    }

    /// promptTokenCount includes cachedContentTokenCount; thoughts are billed as output.
    func usage(_ u: ProviderUsage) -> Usage {
        let thoughts = u.thoughtsTokenCount ?? 0
        return Usage(
            inputTokens: u.promptTokenCount ?? 0, outputTokens: (u.candidatesTokenCount ?? 0).saturatingAdd(thoughts),
            cachedInputTokens: u.cachedContentTokenCount ?? 0, reasoningTokens: thoughts)
    }
}
