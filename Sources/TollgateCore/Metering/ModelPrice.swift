/// Prices of one model, as integers: micro-dollars per million tokens, which is exactly
/// pico-dollars per token, so `tokens × rate` is an exact cost in pico-dollars.
///
/// Six decimals of a per-million price (`"0.000001"`, a millionth of a dollar per million tokens)
/// are the finest a price can be; every provider's list fits.
package struct ModelPrice: Sendable, Equatable {
    /// One level of rates, every field resolved (no defaults left to apply).
    package struct Rates: Sendable, Equatable {
        package var input: Int64
        package var output: Int64
        /// Reading from the provider's prompt cache.
        package var cachedInput: Int64
        /// Writing to it (Anthropic's 5-minute cache write).
        package var cacheWrite: Int64

        package init(input: Int64, output: Int64, cachedInput: Int64? = nil, cacheWrite: Int64? = nil) {
            self.input = input
            self.output = output
            self.cachedInput = cachedInput ?? input
            self.cacheWrite = cacheWrite ?? Self.defaultCacheWrite(input: input)
        }

        /// 1.25 × the input rate, Anthropic's 5-minute cache write, rounded half up to the
        /// pico-dollar: used when a price lists no cache-write rate. In 128 bits and clamped: the
        /// input rate is an operator's number, and one above $1.8 trillion per million tokens
        /// (`Fuzz/crashes/FuzzPricing-1`) must not trap a pricing load or reload.
        package static func defaultCacheWrite(input: Int64) -> Int64 { Int64(clamping: (Int128(input) * 5 + 2) / 4) }
    }

    /// Rates that replace the base ones when a request's input exceeds `aboveInputTokens`
    /// (Gemini 2.5 Pro above 200k prompt tokens, GPT-5.4 above 272k, …).
    package struct Tier: Sendable, Equatable {
        package var aboveInputTokens: Int
        package var rates: Rates

        package init(aboveInputTokens: Int, rates: Rates) {
            self.aboveInputTokens = aboveInputTokens
            self.rates = rates
        }
    }

    /// The Tollgate provider the price list gives for it (`openai`, `groq`, …), if any.
    package var provider: String?
    package var rates: Rates
    /// Ascending by threshold.
    package var tiers: [Tier]
    /// The model's output limit: the worst case a budget reserves when a request sets no cap.
    package var maxOutputTokens: Int?

    package init(provider: String? = nil, rates: Rates, tiers: [Tier] = [], maxOutputTokens: Int? = nil) {
        self.provider = provider
        self.rates = rates
        self.tiers = tiers.sorted { $0.aboveInputTokens < $1.aboveInputTokens }
        self.maxOutputTokens = maxOutputTokens
    }

    /// The rates for a request with `inputTokens` of input (normalized: cache reads and writes
    /// included): the highest tier whose threshold it exceeds, else the base rates. The whole
    /// request is billed at that level, as Google and OpenAI bill long prompts.
    package func rates(forInputTokens inputTokens: Int) -> Rates {
        tiers.last { inputTokens > $0.aboveInputTokens }?.rates ?? rates
    }
}
