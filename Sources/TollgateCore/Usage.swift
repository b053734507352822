/// Token counts of one request, normalized across providers (SPEC §5).
///
/// `inputTokens` is every input token the provider processed, cache reads and writes included;
/// `cachedInputTokens` and `cacheWriteTokens` are the parts of it read from or written to the
/// provider's cache. `outputTokens` is every output token billed, reasoning included;
/// `reasoningTokens` is that part.
package struct Usage: Sendable, Equatable, Codable {
    package var inputTokens: Int
    package var outputTokens: Int
    package var cachedInputTokens: Int
    package var cacheWriteTokens: Int
    package var reasoningTokens: Int

    package init(
        inputTokens: Int = 0, outputTokens: Int = 0, cachedInputTokens: Int = 0,
        cacheWriteTokens: Int = 0, reasoningTokens: Int = 0
    ) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.reasoningTokens = reasoningTokens
    }

    package static let zero = Usage()
}

/// Where a usage event's token counts came from (SPEC §5 `usage_source`).
package enum UsageSource: String, Sendable, Codable {
    /// The provider reported them.
    case provider
    /// The provider never did (stream cut short): counted from what was seen.
    case estimated
    /// Nothing to count from (unmetered path, request blocked before forwarding).
    case missing
}
