import Foundation

/// Reads the provider's usage object into normalized `Usage` (SPEC §5).
package enum UsageParser {
    /// From a whole (non-streamed) answer body: the reported model and usage, if any.
    package static func parse(body: some Collection<UInt8>, format: ProviderFormat, endpoint: Endpoint) -> (model: String?, usage: Usage?) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return (nil, nil) }
        return parse(object: object, format: format, endpoint: endpoint)
    }

    package static func parse(object: [String: Any], format: ProviderFormat, endpoint: Endpoint) -> (model: String?, usage: Usage?) {
        switch format {
        case .openai:
            let model = object["model"] as? String
            if endpoint == .responses {
                let response = object["response"] as? [String: Any] ?? object
                return (response["model"] as? String ?? model, (response["usage"] as? [String: Any]).map(openAIResponses))
            }
            return (model, (object["usage"] as? [String: Any]).map(openAI))
        case .anthropic:
            let message = object["message"] as? [String: Any] ?? object
            return (message["model"] as? String, (message["usage"] as? [String: Any]).map(anthropic))
        case .gemini:
            return (object["modelVersion"] as? String, (object["usageMetadata"] as? [String: Any]).map(gemini))
        }
    }

    /// OpenAI chat/completions/embeddings: prompt_tokens includes cached_tokens; completion_tokens includes reasoning.
    package static func openAI(_ u: [String: Any]) -> Usage {
        let prompt = int(u["prompt_tokens"])
        let details = u["prompt_tokens_details"] as? [String: Any]
        let completion = u["completion_tokens"] as? Int ?? max(0, int(u["total_tokens"]) - prompt)
        return Usage(
            inputTokens: prompt, outputTokens: completion, cachedInputTokens: int(details?["cached_tokens"]),
            reasoningTokens: int((u["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"]))
    }

    /// OpenAI Responses API: input_tokens includes cached; output_tokens includes reasoning.
    package static func openAIResponses(_ u: [String: Any]) -> Usage {
        Usage(
            inputTokens: int(u["input_tokens"]), outputTokens: int(u["output_tokens"]),
            cachedInputTokens: int((u["input_tokens_details"] as? [String: Any])?["cached_tokens"]),
            reasoningTokens: int((u["output_tokens_details"] as? [String: Any])?["reasoning_tokens"]))
    }

    /// Anthropic: input_tokens excludes cache reads and writes, which are added to normalize.
    package static func anthropic(_ u: [String: Any]) -> Usage {
        let read = int(u["cache_read_input_tokens"])
        let write = int(u["cache_creation_input_tokens"])
        return Usage(
            inputTokens: int(u["input_tokens"]) + read + write, outputTokens: int(u["output_tokens"]),
            cachedInputTokens: read, cacheWriteTokens: write)
    }

    /// Gemini: promptTokenCount includes cached; output = candidates + thoughts.
    package static func gemini(_ u: [String: Any]) -> Usage {
        let thoughts = int(u["thoughtsTokenCount"])
        return Usage(
            inputTokens: int(u["promptTokenCount"]), outputTokens: int(u["candidatesTokenCount"]) + thoughts,
            cachedInputTokens: int(u["cachedContentTokenCount"]), reasoningTokens: thoughts)
    }

    static func int(_ value: Any?) -> Int { (value as? Int) ?? (value as? NSNumber)?.intValue ?? 0 }
}
