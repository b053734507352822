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

    /// The most tokens any one count of one request may hold: a thousand times the largest
    /// context window on sale. A provider (or a proxy in front of one) that reports more is
    /// broken or hostile, and its figure must not be able to overflow a cost or lower a total.
    package static let maxTokens = 1_000_000_000

    /// Every count clamped into `0...maxTokens`, and whether any had to be; the parts
    /// (cached, cache-write, reasoning) never exceed the whole they belong to.
    package func bounded() -> (usage: Usage, clamped: Bool) {
        func clamp(_ n: Int, _ ceiling: Int = Self.maxTokens) -> Int { min(max(0, n), ceiling) }
        var usage = Usage(
            inputTokens: clamp(inputTokens), outputTokens: clamp(outputTokens),
            cachedInputTokens: clamp(cachedInputTokens), cacheWriteTokens: clamp(cacheWriteTokens),
            reasoningTokens: clamp(reasoningTokens))
        usage.cachedInputTokens = min(usage.cachedInputTokens, usage.inputTokens)
        usage.cacheWriteTokens = min(usage.cacheWriteTokens, usage.inputTokens - usage.cachedInputTokens)
        usage.reasoningTokens = min(usage.reasoningTokens, usage.outputTokens)
        return (usage, usage != self)
    }

    /// `inputTokens + outputTokens`, saturating instead of trapping.
    package var totalTokens: Int { inputTokens.saturatingAdd(outputTokens) }
}

extension FixedWidthInteger {
    /// `self + other`, pinned to the type's range instead of trapping on overflow.
    package func saturatingAdd(_ other: Self) -> Self {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }

    /// `self − other`, pinned to the type's range instead of trapping on overflow.
    package func saturatingSubtract(_ other: Self) -> Self {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other < 0 ? .max : .min
    }

    /// `self × other`, pinned to the type's range instead of trapping on overflow.
    package func saturatingMultiply(_ other: Self) -> Self {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) == (other < 0) ? .max : .min
    }
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
