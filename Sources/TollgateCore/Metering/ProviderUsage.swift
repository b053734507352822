/// A provider's usage object as sent, every field optional, before normalization.
///
/// One type covers every wire format (their field names do not collide), so an object can
/// be read before knowing which endpoint produced it, and Anthropic's two stream events can
/// be merged field by field.
///
/// Read by hand from the bytes (`init?(json:)`) rather than with `JSONDecoder`: this runs on
/// every metered answer, and `Codable` decoding of this small object cost more CPU than the
/// rest of metering together (about 7 % of the proxy's CPU at c32, measured with perf).
package struct ProviderUsage: Sendable, Equatable {
    package struct Details: Sendable, Equatable {
        package var cachedTokens: Int?
        package var reasoningTokens: Int?
        /// OpenRouter reports Anthropic cache writes here.
        package var cacheWriteTokens: Int?

        enum Field: String, UsageField {
            static let wireNames = allCases.map { (bytes: Array($0.rawValue.utf8), field: $0) }

            case cachedTokens = "cached_tokens"
            case reasoningTokens = "reasoning_tokens"
            case cacheWriteTokens = "cache_write_tokens"
        }

        package init(cachedTokens: Int? = nil, reasoningTokens: Int? = nil, cacheWriteTokens: Int? = nil) {
            self.cachedTokens = cachedTokens
            self.reasoningTokens = reasoningTokens
            self.cacheWriteTokens = cacheWriteTokens
        }

        /// Reads a details object's bytes; nil if they are not an object (e.g. `null`).
        init?(json bytes: UnsafeBufferPointer<UInt8>) {
            var details = Details()
            let complete = JSONScanner.forEachMember(of: bytes) { name, range in
                let value = JSONScanner.integer(UnsafeBufferPointer(rebasing: bytes[range]))
                switch Field.named(name) {
                case .cachedTokens: details.cachedTokens = value
                case .reasoningTokens: details.reasoningTokens = value
                case .cacheWriteTokens: details.cacheWriteTokens = value
                case nil: break
                }
                return true
            }
            guard complete else { return nil }
            self = details
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
    // Bedrock's Converse `usage` (camelCase; input excludes cache reads and writes, as Anthropic's).
    package var converseInputTokens: Int?
    package var converseOutputTokens: Int?
    package var converseCacheReadInputTokens: Int?
    package var converseCacheWriteInputTokens: Int?
    // Bedrock's `amazon-bedrock-invocationMetrics` (InvokeModel streams), the same meanings.
    package var inputTokenCount: Int?
    package var outputTokenCount: Int?
    package var cacheReadInputTokenCount: Int?
    package var cacheWriteInputTokenCount: Int?

    enum Field: String, UsageField {
        static let wireNames = allCases.map { (bytes: Array($0.rawValue.utf8), field: $0) }
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
        case converseInputTokens = "inputTokens"
        case converseOutputTokens = "outputTokens"
        case converseCacheReadInputTokens = "cacheReadInputTokens"
        case converseCacheWriteInputTokens = "cacheWriteInputTokens"
        case inputTokenCount
        case outputTokenCount
        case cacheReadInputTokenCount
        case cacheWriteInputTokenCount
    }

    package init() {}

    /// Reads a usage object's JSON bytes; nil if they are not an object. Unknown members are
    /// skipped; a count that is not an integer (or a details member that is not an object) is
    /// left unset rather than failing the whole object.
    package init?(json bytes: UnsafeBufferPointer<UInt8>) {
        var usage = ProviderUsage()
        let complete = JSONScanner.forEachMember(of: bytes) { name, range in
            guard let field = Field.named(name) else { return true }
            let value = UnsafeBufferPointer(rebasing: bytes[range])
            usage.set(field, value)
            return true
        }
        guard complete else { return nil }
        self = usage
    }

    private mutating func set(_ field: Field, _ value: UnsafeBufferPointer<UInt8>) {
        switch field {
        case .promptTokens: promptTokens = JSONScanner.integer(value)
        case .completionTokens: completionTokens = JSONScanner.integer(value)
        case .totalTokens: totalTokens = JSONScanner.integer(value)
        case .promptTokensDetails: promptTokensDetails = Details(json: value)
        case .completionTokensDetails: completionTokensDetails = Details(json: value)
        case .promptCacheHitTokens: promptCacheHitTokens = JSONScanner.integer(value)
        case .inputTokens: inputTokens = JSONScanner.integer(value)
        case .outputTokens: outputTokens = JSONScanner.integer(value)
        case .inputTokensDetails: inputTokensDetails = Details(json: value)
        case .outputTokensDetails: outputTokensDetails = Details(json: value)
        case .cacheReadInputTokens: cacheReadInputTokens = JSONScanner.integer(value)
        case .cacheCreationInputTokens: cacheCreationInputTokens = JSONScanner.integer(value)
        case .promptTokenCount: promptTokenCount = JSONScanner.integer(value)
        case .candidatesTokenCount: candidatesTokenCount = JSONScanner.integer(value)
        case .cachedContentTokenCount: cachedContentTokenCount = JSONScanner.integer(value)
        case .thoughtsTokenCount: thoughtsTokenCount = JSONScanner.integer(value)
        case .converseInputTokens: converseInputTokens = JSONScanner.integer(value)
        case .converseOutputTokens: converseOutputTokens = JSONScanner.integer(value)
        case .converseCacheReadInputTokens: converseCacheReadInputTokens = JSONScanner.integer(value)
        case .converseCacheWriteInputTokens: converseCacheWriteInputTokens = JSONScanner.integer(value)
        case .inputTokenCount: inputTokenCount = JSONScanner.integer(value)
        case .outputTokenCount: outputTokenCount = JSONScanner.integer(value)
        case .cacheReadInputTokenCount: cacheReadInputTokenCount = JSONScanner.integer(value)
        case .cacheWriteInputTokenCount: cacheWriteInputTokenCount = JSONScanner.integer(value)
        }
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
        merged.converseInputTokens = newer.converseInputTokens ?? converseInputTokens
        merged.converseOutputTokens = newer.converseOutputTokens ?? converseOutputTokens
        merged.converseCacheReadInputTokens = newer.converseCacheReadInputTokens ?? converseCacheReadInputTokens
        merged.converseCacheWriteInputTokens = newer.converseCacheWriteInputTokens ?? converseCacheWriteInputTokens
        merged.inputTokenCount = newer.inputTokenCount ?? inputTokenCount
        merged.outputTokenCount = newer.outputTokenCount ?? outputTokenCount
        merged.cacheReadInputTokenCount = newer.cacheReadInputTokenCount ?? cacheReadInputTokenCount
        merged.cacheWriteInputTokenCount = newer.cacheWriteInputTokenCount ?? cacheWriteInputTokenCount
        return merged
    }

    /// SPEC §5's normalized tokens, read the way `format` means them (`WireFormat.usage`).
    package func normalized(_ format: ProviderFormat) -> Usage { format.wire.usage(self) }
}

/// A field of a provider's usage object, found from its name's bytes without making a `String`.
protocol UsageField: CaseIterable, RawRepresentable<String> {
    /// Every case with its name's UTF-8 bytes (a stored `static let` in each conformer).
    static var wireNames: [(bytes: [UInt8], field: Self)] { get }
}

extension UsageField {
    static func named(_ bytes: UnsafeBufferPointer<UInt8>) -> Self? {
        for entry in wireNames where entry.bytes.count == bytes.count && entry.bytes.elementsEqual(bytes) {
            return entry.field
        }
        return nil
    }
}
