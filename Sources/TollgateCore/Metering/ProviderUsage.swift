import Foundation

/// A provider's usage object as sent, every field optional, before normalization.
///
/// One type covers the three wire formats (their field names do not collide), so an object can
/// be decoded before knowing which endpoint produced it, and Anthropic's two stream events can
/// be merged field by field.
package struct ProviderUsage: Sendable, Equatable, Decodable {
    package struct Details: Sendable, Equatable, Decodable {
        package var cachedTokens: Int?
        package var reasoningTokens: Int?
        /// OpenRouter reports Anthropic cache writes here.
        package var cacheWriteTokens: Int?

        enum CodingKeys: String, CodingKey {
            case cachedTokens = "cached_tokens"
            case reasoningTokens = "reasoning_tokens"
            case cacheWriteTokens = "cache_write_tokens"
        }

        package init(cachedTokens: Int? = nil, reasoningTokens: Int? = nil, cacheWriteTokens: Int? = nil) {
            self.cachedTokens = cachedTokens
            self.reasoningTokens = reasoningTokens
            self.cacheWriteTokens = cacheWriteTokens
        }
    }

    // OpenAI chat completions, completions, embeddings.
    package var promptTokens: Int?
    package var completionTokens: Int?
    package var totalTokens: Int?
    package var promptTokensDetails: Details?
    package var completionTokensDetails: Details?
    /// DeepSeek's name for cached prompt tokens.
    package var promptCacheHitTokens: Int?
    // OpenAI Responses API and Anthropic.
    package var inputTokens: Int?
    package var outputTokens: Int?
    package var inputTokensDetails: Details?
    package var outputTokensDetails: Details?
    // Anthropic.
    package var cacheReadInputTokens: Int?
    package var cacheCreationInputTokens: Int?
    // Gemini.
    package var promptTokenCount: Int?
    package var candidatesTokenCount: Int?
    package var cachedContentTokenCount: Int?
    package var thoughtsTokenCount: Int?

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case promptTokensDetails = "prompt_tokens_details"
        case completionTokensDetails = "completion_tokens_details"
        case promptCacheHitTokens = "prompt_cache_hit_tokens"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case inputTokensDetails = "input_tokens_details"
        case outputTokensDetails = "output_tokens_details"
        case cacheReadInputTokens = "cache_read_input_tokens"
        case cacheCreationInputTokens = "cache_creation_input_tokens"
        case promptTokenCount
        case candidatesTokenCount
        case cachedContentTokenCount
        case thoughtsTokenCount
    }

    package init() {}

    /// Decodes a usage object's JSON bytes; nil if they are not one.
    package init?(json bytes: some Collection<UInt8>) {
        guard let decoded = try? JSONDecoder().decode(ProviderUsage.self, from: Data(bytes)) else { return nil }
        self = decoded
    }

    /// From an already parsed object (`JSONSerialization`).
    package init(dictionary u: [String: Any]) {
        func int(_ key: CodingKeys, in object: [String: Any] = u) -> Int? {
            guard let number = object[key.rawValue] as? NSNumber else { return nil }
            return number.intValue
        }
        func details(_ key: CodingKeys) -> Details? {
            guard let object = u[key.rawValue] as? [String: Any] else { return nil }
            func detail(_ name: Details.CodingKeys) -> Int? { (object[name.rawValue] as? NSNumber)?.intValue }
            return Details(
                cachedTokens: detail(.cachedTokens), reasoningTokens: detail(.reasoningTokens),
                cacheWriteTokens: detail(.cacheWriteTokens))
        }
        promptTokens = int(.promptTokens)
        completionTokens = int(.completionTokens)
        totalTokens = int(.totalTokens)
        promptTokensDetails = details(.promptTokensDetails)
        completionTokensDetails = details(.completionTokensDetails)
        promptCacheHitTokens = int(.promptCacheHitTokens)
        inputTokens = int(.inputTokens)
        outputTokens = int(.outputTokens)
        inputTokensDetails = details(.inputTokensDetails)
        outputTokensDetails = details(.outputTokensDetails)
        cacheReadInputTokens = int(.cacheReadInputTokens)
        cacheCreationInputTokens = int(.cacheCreationInputTokens)
        promptTokenCount = int(.promptTokenCount)
        candidatesTokenCount = int(.candidatesTokenCount)
        cachedContentTokenCount = int(.cachedContentTokenCount)
        thoughtsTokenCount = int(.thoughtsTokenCount)
    }

    /// `self` with every field `newer` carries replacing this one's: Anthropic's `message_delta`
    /// restates (cumulatively) what changed since `message_start`.
    package func merging(_ newer: ProviderUsage) -> ProviderUsage {
        var merged = self
        merged.promptTokens = newer.promptTokens ?? promptTokens
        merged.completionTokens = newer.completionTokens ?? completionTokens
        merged.totalTokens = newer.totalTokens ?? totalTokens
        merged.promptTokensDetails = newer.promptTokensDetails ?? promptTokensDetails
        merged.completionTokensDetails = newer.completionTokensDetails ?? completionTokensDetails
        merged.promptCacheHitTokens = newer.promptCacheHitTokens ?? promptCacheHitTokens
        merged.inputTokens = newer.inputTokens ?? inputTokens
        merged.outputTokens = newer.outputTokens ?? outputTokens
        merged.inputTokensDetails = newer.inputTokensDetails ?? inputTokensDetails
        merged.outputTokensDetails = newer.outputTokensDetails ?? outputTokensDetails
        merged.cacheReadInputTokens = newer.cacheReadInputTokens ?? cacheReadInputTokens
        merged.cacheCreationInputTokens = newer.cacheCreationInputTokens ?? cacheCreationInputTokens
        merged.promptTokenCount = newer.promptTokenCount ?? promptTokenCount
        merged.candidatesTokenCount = newer.candidatesTokenCount ?? candidatesTokenCount
        merged.cachedContentTokenCount = newer.cachedContentTokenCount ?? cachedContentTokenCount
        merged.thoughtsTokenCount = newer.thoughtsTokenCount ?? thoughtsTokenCount
        return merged
    }

    /// SPEC §5's normalization: input is every input token processed (cache reads and writes
    /// included), output every output token billed (reasoning included).
    package func normalized(_ format: ProviderFormat) -> Usage {
        switch format {
        case .openai:
            if promptTokens != nil || completionTokens != nil {
                // Chat completions, completions, embeddings: prompt_tokens includes cached_tokens,
                // completion_tokens includes reasoning_tokens.
                let prompt = promptTokens ?? 0
                return Usage(
                    inputTokens: prompt,
                    outputTokens: completionTokens ?? max(0, (totalTokens ?? prompt) - prompt),
                    cachedInputTokens: promptTokensDetails?.cachedTokens ?? promptCacheHitTokens ?? 0,
                    cacheWriteTokens: promptTokensDetails?.cacheWriteTokens ?? 0,
                    reasoningTokens: completionTokensDetails?.reasoningTokens ?? 0)
            }
            // Responses API: input_tokens includes cached, output_tokens includes reasoning.
            return Usage(
                inputTokens: inputTokens ?? 0, outputTokens: outputTokens ?? 0,
                cachedInputTokens: inputTokensDetails?.cachedTokens ?? 0,
                reasoningTokens: outputTokensDetails?.reasoningTokens ?? 0)
        case .anthropic:
            // input_tokens excludes cache reads and writes; thinking is inside output_tokens.
            let read = cacheReadInputTokens ?? 0
            let write = cacheCreationInputTokens ?? 0
            return Usage(
                inputTokens: (inputTokens ?? 0) + read + write, outputTokens: outputTokens ?? 0,
                cachedInputTokens: read, cacheWriteTokens: write)
        case .gemini:
            // promptTokenCount includes cachedContentTokenCount; thoughts are billed as output.
            let thoughts = thoughtsTokenCount ?? 0
            return Usage(
                inputTokens: promptTokenCount ?? 0, outputTokens: (candidatesTokenCount ?? 0) + thoughts,
                cachedInputTokens: cachedContentTokenCount ?? 0, reasoningTokens: thoughts)
        }
    }
}
