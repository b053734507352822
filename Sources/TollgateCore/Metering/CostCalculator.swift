/// What one request cost, in exact nano-dollars.
package struct Cost: Sendable, Equatable {
    package var costNanos: Int64
    /// What the provider's own prompt caching saved: cached tokens at the full input rate minus
    /// what they were billed, net of any cache-write premium (negative when writes outweigh reads).
    package var promptCacheSavingsNanos: Int64
    package var priced: Bool

    package static let unpriced = Cost(costNanos: 0, promptCacheSavingsNanos: 0, priced: false)
}

/// Prices normalized usage (SPEC §6).
///
/// Because `Usage` is normalized — input includes cache reads and writes, output includes
/// reasoning — one formula covers every provider's billing:
/// `(input − cached − cacheWrite) × input rate + cached × cached rate + cacheWrite × write rate + output × output rate`.
/// Tokens × micro-dollars-per-million is pico-dollars, exact; the request's total is rounded once,
/// half up, to nano-dollars.
package enum CostCalculator {
    package static func cost(_ usage: Usage, price: ModelPrice) -> Cost {
        let rates = price.rates(forInputTokens: usage.inputTokens)
        let cached = Int64(max(0, usage.cachedInputTokens))
        let written = Int64(max(0, usage.cacheWriteTokens))
        let uncached = max(0, Int64(usage.inputTokens) - cached - written)
        let output = Int64(max(0, usage.outputTokens))
        let pico = uncached * rates.input + cached * rates.cachedInput + written * rates.cacheWrite + output * rates.output
        let savedPico = cached * (rates.input - rates.cachedInput) - written * (rates.cacheWrite - rates.input)
        return Cost(costNanos: roundPicoToNanos(pico), promptCacheSavingsNanos: roundPicoToNanos(savedPico), priced: true)
    }

    /// `nanos × (1 + markupBasisPoints / 10 000)`, rounded half up once.
    package static func charged(_ nanos: Int64, markupBasisPoints: Int64) -> Int64 {
        nanos + roundDivide(nanos * markupBasisPoints, 10_000)
    }

    /// Half away from zero.
    static func roundPicoToNanos(_ pico: Int64) -> Int64 { roundDivide(pico, 1000) }

    private static func roundDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? (value + divisor / 2) / divisor : -((-value + divisor / 2) / divisor)
    }
}
