/// Anthropic's Messages API.
struct AnthropicWireFormat: WireFormat {
    func bodyFormat(forPath path: Substring) -> ProviderFormat { .anthropic }

    func endpoint(forPath path: Substring) -> Endpoint {
        self.path(path, endsWith: "/v1/messages") ? .messages : .other
    }

    /// GET /v1/models[/{id}], POST /v1/messages/count_tokens.
    func isFree(_ rest: ArraySlice<Substring>) -> Bool {
        (rest.first == "models" && rest.count <= 2) || Array(rest) == ["messages", "count_tokens"]
    }

    func credentialHeader(apiKey: String) -> (name: String, value: String) { ("x-api-key", apiKey) }

    func errorBody(_ error: RequestError, quotedMessage message: String, quotedCode code: String) -> String {
        let type: String =
            switch error.code {
            case .invalidAPIKey: "authentication_error"
            case .modelNotAllowed, .modelNotPriced, .endpointNotAllowed: "permission_error"
            case .invalidRequest: "invalid_request_error"
            case .notFound: "not_found_error"
            case .requestTooLarge: "request_too_large"
            case .rateLimitExceeded, .budgetExceeded: "rate_limit_error"
            case .providerNotConfigured, .upstreamUnavailable: "api_error"
            case .upstreamTimeout, .requestTimeout, .clientGone: "timeout_error"
            }
        return #"{"type":"error","error":{"type":\#(JSONText.quoted(type)),"message":\#(message),"code":\#(code)}}"#
    }

    /// input_tokens excludes cache reads and writes; thinking is inside output_tokens.
    func usage(_ u: ProviderUsage) -> Usage {
        let read = u.cacheReadInputTokens ?? 0
        let write = u.cacheCreationInputTokens ?? 0
        return Usage(
            inputTokens: (u.inputTokens ?? 0).saturatingAdd(read).saturatingAdd(write), outputTokens: u.outputTokens ?? 0,
            cachedInputTokens: read, cacheWriteTokens: write)
    }
}
