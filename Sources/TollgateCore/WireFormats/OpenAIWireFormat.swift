/// OpenAI's API and every provider that speaks it (Groq, Mistral, DeepSeek, Together, …).
struct OpenAIWireFormat: WireFormat {
    func bodyFormat(forPath path: Substring) -> ProviderFormat { .openai }

    func endpoint(forPath path: Substring) -> Endpoint {
        if self.path(path, endsWith: "/chat/completions") { return .chat }
        if self.path(path, endsWith: "/completions") { return .completion }
        if self.path(path, endsWith: "/embeddings") { return .embedding }
        if self.path(path, endsWith: "/responses") { return .responses }
        return .other
    }

    /// GET /v1/models[/{id}], POST /v1/moderations.
    func isFree(_ rest: ArraySlice<Substring>) -> Bool {
        (rest.first == "models" && rest.count <= 2) || (rest.first == "moderations" && rest.count == 1)
    }

    func credentialHeader(apiKey: String) -> (name: String, value: String) { ("authorization", "Bearer " + apiKey) }

    func errorBody(_ error: RequestError, quotedMessage message: String, quotedCode code: String) -> String {
        let type: String =
            switch error.code {
            case .budgetExceeded: "insufficient_quota"
            case .rateLimitExceeded: "rate_limit_error"
            case .invalidAPIKey, .invalidRequest, .requestTooLarge, .requestTimeout, .clientGone, .notFound,
                .modelNotAllowed, .modelNotPriced, .endpointNotAllowed:
                "invalid_request_error"
            case .providerNotConfigured, .upstreamUnavailable, .upstreamTimeout: "server_error"
            }
        return #"{"error":{"message":\#(message),"type":\#(JSONText.quoted(type)),"param":null,"code":\#(code)}}"#
    }

    func usage(_ u: ProviderUsage) -> Usage {
        if u.promptTokens != nil || u.completionTokens != nil {
            // Chat completions, completions, embeddings: prompt_tokens includes cached_tokens,
            // completion_tokens includes reasoning_tokens.
            let prompt = u.promptTokens ?? 0
            return Usage(
                inputTokens: prompt,
                outputTokens: u.completionTokens ?? max(0, (u.totalTokens ?? prompt).saturatingSubtract(prompt)),
                cachedInputTokens: u.promptTokensDetails?.cachedTokens ?? u.promptCacheHitTokens ?? 0,
                cacheWriteTokens: u.promptTokensDetails?.cacheWriteTokens ?? 0,
                reasoningTokens: u.completionTokensDetails?.reasoningTokens ?? 0)
        }
        // Responses API: input_tokens includes cached, output_tokens includes reasoning.
        return Usage(
            inputTokens: u.inputTokens ?? 0, outputTokens: u.outputTokens ?? 0,
            cachedInputTokens: u.inputTokensDetails?.cachedTokens ?? 0,
            reasoningTokens: u.outputTokensDetails?.reasoningTokens ?? 0)
    }
}
