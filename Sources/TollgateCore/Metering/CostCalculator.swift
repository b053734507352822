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
        let uncached = max(0, Int64(usage.inputTokens) - cached - written)
        let output = Int64(max(0, usage.outputTokens))
        let pico =
            uncached * rates.input + cached * rates.cachedInput + written * rates.cacheWrite + output * rates.output
        let savedPico = cached * (rates.input - rates.cachedInput) - written * (rates.cacheWrite - rates.input)
        return Cost(
            costNanos: roundedDivision(pico, by: 1000), promptCacheSavingsNanos: roundedDivision(savedPico, by: 1000),
            priced: true)
    }

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
        let output = Int64(max(0, outputCap ?? price.maxOutputTokens ?? 0))
        let pico = Int64(max(0, inputTokens)) * rates.input + output * rates.output
        return (pico + 999) / 1000
    }

    /// `nanos × (1 + markupBasisPoints / 10 000)`, rounded half up once (20 % is 2000).
    package static func charged(_ nanos: Int64, markupBasisPoints: Int64) -> Int64 {
        charged(nanos, markup: Markup(partsPerMillion: markupBasisPoints * 100))
    }

    /// `nanos × (1 + markup)`, rounded half up once; the markup part of a cost's nano-dollar is
    /// the only thing rounded, so `charged − cost` is the profit exactly.
    package static func charged(_ nanos: Int64, markup: Markup) -> Int64 {
        let product = nanos.multipliedFullWidth(by: markup.partsPerMillion)
        let wide = (high: product.high, low: product.low)
        return nanos + roundedDivision(wide, by: 1_000_000)
    }

    /// `value / divisor` rounded half away from zero (half up for the non-negative costs).
    package static func roundedDivision(_ value: Int64, by divisor: Int64) -> Int64 {
        precondition(divisor > 0)
        let half = divisor / 2
        return value >= 0 ? (value + half) / divisor : -((-value + half) / divisor)
    }

    private static func roundedDivision(_ value: (high: Int64, low: UInt64), by divisor: Int64) -> Int64 {
        let negative = value.high < 0
        // Two's-complement negate of the 128-bit value when negative.
        var high = value.high
        var low = value.low
        if negative {
            low = ~low &+ 1
            high = ~high &+ (low == 0 ? 1 : 0)
        }
        let magnitude = (high: UInt64(bitPattern: high), low: low)
        let (quotient, remainder) = UInt64(divisor).dividingFullWidth(magnitude)
        let rounded = Int64(quotient) + (remainder >= UInt64(divisor) - remainder ? 1 : 0)
        return negative ? -rounded : rounded
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
