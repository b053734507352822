/// What one request cost, in exact nano-dollars.
package struct Cost: Sendable, Equatable {
    package var costNanos: Int64
    /// What the provider's own prompt caching saved: cached tokens at the full input rate minus
    /// what they were billed, net of any cache-write premium. Negative when a request wrote more
    /// to the cache than it read back: the premium was a real extra cost, and keeping the sign
    /// lets the sums over later requests that read the cache come out right.
    package var promptCacheSavingsNanos: Int64
    /// False when the model is not in the price list: the cost is then 0 and must not be read as free.
    package var priced: Bool

    package init(costNanos: Int64, promptCacheSavingsNanos: Int64 = 0, priced: Bool = true) {
        self.costNanos = costNanos
        self.promptCacheSavingsNanos = promptCacheSavingsNanos
        self.priced = priced
    }

    package static let unpriced = Cost(costNanos: 0, promptCacheSavingsNanos: 0, priced: false)
}

/// Prices normalized usage (SPEC §6), exactly.
///
/// `Usage` is normalized before it gets here — input includes cache reads and writes, output
/// includes reasoning and thinking tokens — so one formula follows every provider's billing:
///
///     cost = (input − cached − cacheWrite) × input rate + cached × cached rate
///          + cacheWrite × cache-write rate + output × output rate
///
/// OpenAI's `prompt_tokens` and Gemini's `promptTokenCount` include their cached tokens, which
/// the first two terms split; Anthropic's separate cache counts were added into input by the
/// parser and are split back out the same way; neither OpenAI nor Gemini report cache writes.
/// Rates are micro-dollars per million tokens, i.e. pico-dollars per token, so each product is
/// exact; the request's total is rounded once, half up, to nano-dollars. Each stored figure is
/// that rounded number and totals are integer sums of them.
package enum CostCalculator {
    package static func cost(_ usage: Usage, price: ModelPrice) -> Cost {
        let rates = price.rates(forInputTokens: usage.inputTokens)
        let cached = Int64(max(0, usage.cachedInputTokens))
        let written = Int64(max(0, usage.cacheWriteTokens))
        let uncached = max(0, Int64(usage.inputTokens).saturatingSubtract(cached).saturatingSubtract(written))
        let output = Int64(max(0, usage.outputTokens))
        let pico = sum([
            uncached.saturatingMultiply(rates.input), cached.saturatingMultiply(rates.cachedInput),
            written.saturatingMultiply(rates.cacheWrite), output.saturatingMultiply(rates.output),
        ])
        let savedPico = cached.saturatingMultiply(rates.input.saturatingSubtract(rates.cachedInput))
            .saturatingSubtract(written.saturatingMultiply(rates.cacheWrite.saturatingSubtract(rates.input)))
        return Cost(
            costNanos: bounded(roundedDivision(pico, by: 1000)),
            promptCacheSavingsNanos: bounded(roundedDivision(savedPico, by: 1000)), priced: true)
    }

    /// The most one request may cost or save, in nano-dollars: a million dollars. Token counts
    /// are bounded (`Usage.maxTokens`) but prices come from files an operator edits; past this a
    /// figure is broken, and bounding it keeps every sum over requests far from overflow.
    package static let maxRequestNanos: Int64 = 1_000_000 * Money.nanosPerDollar

    private static func bounded(_ nanos: Int64) -> Int64 { min(max(nanos, -maxRequestNanos), maxRequestNanos) }

    private static func sum(_ terms: [Int64]) -> Int64 { terms.reduce(0) { $0.saturatingAdd($1) } }

    /// Prices `usage` with `price`, or records it unpriced (cost 0, `priced: false`) when the
    /// model has none: an unknown model is never silently treated as priced.
    package static func cost(_ usage: Usage, price: ModelPrice?) -> Cost {
        guard let price else { return .unpriced }
        return cost(usage, price: price)
    }

    /// The most a request can cost before it is sent, for budget reservations (SPEC §7): its
    /// estimated input at the input rate (every input token uncached) plus its output cap, else
    /// the model's output limit, at the output rate; rounded up to the nano-dollar so a
    /// reservation never falls short.
    package static func worstCaseNanos(inputTokens: Int, outputCap: Int?, price: ModelPrice) -> Int64 {
        let rates = price.rates(forInputTokens: inputTokens)
        let output = Int64(reservedOutputTokens(cap: outputCap, price: price))
        let input = Int64(min(max(0, inputTokens), Usage.maxTokens))
        let pico = input.saturatingMultiply(rates.input).saturatingAdd(output.saturatingMultiply(rates.output))
        return min(pico / 1000 + (pico % 1000 == 0 ? 0 : 1), maxRequestNanos)
    }

    /// The output a reservation assumes: the request's cap, but never more than the model can
    /// write (a cap above its output limit buys nothing and must not block a budget), nor more
    /// than `Usage.maxTokens`; the model's limit when the request sets none.
    package static func reservedOutputTokens(cap: Int?, price: ModelPrice) -> Int {
        let limit = price.maxOutputTokens.map { min(max(0, $0), Usage.maxTokens) } ?? Usage.maxTokens
        guard let cap else { return price.maxOutputTokens == nil ? 0 : limit }
        return min(max(0, cap), limit)
    }

    /// `nanos × (1 + markupBasisPoints / 10 000)`, rounded half up once (20 % is 2000).
    package static func charged(_ nanos: Int64, markupBasisPoints: Int64) -> Int64 {
        charged(nanos, markup: Markup(partsPerMillion: markupBasisPoints.saturatingMultiply(100)))
    }

    /// `nanos × (1 + markup)`, rounded half up once; the markup part of a cost's nano-dollar is
    /// the only thing rounded, so `charged − cost` is the profit exactly.
    package static func charged(_ nanos: Int64, markup: Markup) -> Int64 {
        // 128-bit: a markup is an admin's number and a cost may be large; neither may trap.
        let product = Int128(nanos) * Int128(markup.partsPerMillion)
        let half: Int128 = 500_000
        let share = product >= 0 ? (product + half) / 1_000_000 : -((-product + half) / 1_000_000)
        return Int64(clamping: Int128(nanos) + share)
    }

    /// `value / divisor` rounded half away from zero (half up for the non-negative costs).
    package static func roundedDivision(_ value: Int64, by divisor: Int64) -> Int64 {
        precondition(divisor > 0)
        let wide = Int128(value)
        let half = Int128(divisor / 2)
        return Int64(wide >= 0 ? (wide + half) / Int128(divisor) : -((-wide + half) / Int128(divisor)))
    }
}

/// An org's markup on cost (`markup_pct`, SPEC §6), exact: parts per million of the cost.
package struct Markup: Sendable, Equatable {
    /// 20 % is 200 000.
    package var partsPerMillion: Int64

    package init(partsPerMillion: Int64) { self.partsPerMillion = partsPerMillion }

    /// From a percentage as a decimal string with at most 4 decimals (`"20"`, `"12.5"`); nil otherwise.
    package init?(percent text: some StringProtocol) {
        guard let value = DecimalParser.scaled(text, decimals: 4) else { return nil }
        self.partsPerMillion = value
    }

    package static let none = Markup(partsPerMillion: 0)
}
