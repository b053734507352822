import Testing
@testable import TollgateCore

/// Every expected figure is worked out by hand in the comment above it: tokens × USD per 1M
/// tokens gives micro-dollars (µ$); 1 µ$ = 1000 nano-dollars (n$).
@Suite("Cost: exact integer arithmetic per provider billing rule")
struct CostFormulaTests {
    private func cost(_ model: String, _ usage: Usage) throws -> Cost {
        CostCalculator.cost(usage, price: try #require(MeteringFixtures.table.lookup(model)).price)
    }

    @Test("OpenAI: uncached input, cached input and output (reasoning inside) at their rates")
    func openAI() throws {
        // gpt-4o: 2006 prompt (1920 cached), 300 completion.
        // 86 × 2.50 + 1920 × 1.25 + 300 × 10 = 215 + 2400 + 3000 = 5615 µ$
        let c = try cost("gpt-4o", Usage(inputTokens: 2006, outputTokens: 300, cachedInputTokens: 1920))
        #expect(c == Cost(costNanos: 5_615_000, promptCacheSavingsNanos: 2_400_000, priced: true))
        // savings: 1920 × (2.50 − 1.25) = 2400 µ$
    }

    @Test("OpenAI reasoning models: reasoning tokens are already inside output, not billed twice")
    func reasoning() throws {
        // o3: 1200 in (1024 cached), 900 out of which 640 reasoning.
        // 176 × 2 + 1024 × 0.50 + 900 × 8 = 352 + 512 + 7200 = 8064 µ$; savings 1024 × 1.50 = 1536 µ$
        let usage = Usage(inputTokens: 1200, outputTokens: 900, cachedInputTokens: 1024, reasoningTokens: 640)
        let c = try cost("o3", usage)
        #expect(c.costNanos == 8_064_000)
        #expect(c.promptCacheSavingsNanos == 1_536_000)
    }

    @Test("Anthropic: cache reads and writes split out of normalized input, each at its own rate")
    func anthropic() throws {
        // input_tokens 42 + cache_read 12000 + cache_creation 1500 = 13542 normalized; 250 out.
        // 42 × 3 + 12000 × 0.30 + 1500 × 3.75 + 250 × 15 = 126 + 3600 + 5625 + 3750 = 13101 µ$
        // savings: 12000 × (3 − 0.30) − 1500 × (3.75 − 3) = 32400 − 1125 = 31275 µ$
        let usage = Usage(inputTokens: 13542, outputTokens: 250, cachedInputTokens: 12000, cacheWriteTokens: 1500)
        #expect(try cost("claude-sonnet-4-5-20250929", usage) == Cost(costNanos: 13_101_000, promptCacheSavingsNanos: 31_275_000))
    }

    @Test("Anthropic: without a listed write rate a cache write costs 1.25 × input")
    func defaultWriteRate() throws {
        // claude-haiku-3-test: $0.80 in → write $1.00. 100 uncached + 1000 written, 10 out.
        // 100 × 0.80 + 1000 × 1.00 + 10 × 4 = 80 + 1000 + 40 = 1120 µ$; savings −1000 × 0.20 = −200 µ$
        let usage = Usage(inputTokens: 1100, outputTokens: 10, cacheWriteTokens: 1000)
        #expect(try cost("claude-haiku-3-test", usage) == Cost(costNanos: 1_120_000, promptCacheSavingsNanos: -200_000))
    }

    @Test("prompt-cache savings go negative when writes outweigh reads, and stay so")
    func negativeSavings() throws {
        // 2048 written, nothing read: −2048 × (3.75 − 3) = −1536 µ$
        let usage = Usage(inputTokens: 2073, outputTokens: 87, cacheWriteTokens: 2048)
        let c = try cost("claude-sonnet-4-5", usage)
        #expect(c.promptCacheSavingsNanos == -1_536_000)
        // 25 × 3 + 2048 × 3.75 + 87 × 15 = 75 + 7680 + 1305 = 9060 µ$
        #expect(c.costNanos == 9_060_000)
    }

    @Test("Anthropic long context: above 200k input tokens every token moves to the tier's rates")
    func anthropicTier() throws {
        // 210 000 normalized input (10 000 read, 0 written), 1000 out, tier 6 / 22.50 / 0.60:
        // 200 000 × 6 + 10 000 × 0.60 + 1000 × 22.50 = 1 200 000 + 6000 + 22 500 = 1 228 500 µ$
        let usage = Usage(inputTokens: 210_000, outputTokens: 1000, cachedInputTokens: 10_000)
        #expect(try cost("claude-sonnet-4-5", usage).costNanos == 1_228_500_000)
    }

    @Test("Gemini: prompt includes cached, output is candidates + thoughts; fractions of a µ$ stay exact")
    func gemini() throws {
        // gemini-2.5-flash: 5000 prompt (4096 cached), 420 candidates + 1180 thoughts.
        // 904 × 0.30 + 4096 × 0.03 + 1600 × 2.50 = 271.2 + 122.88 + 4000 = 4394.08 µ$ = 4 394 080 n$
        // savings: 4096 × 0.27 = 1105.92 µ$
        let usage = Usage(inputTokens: 5000, outputTokens: 1600, cachedInputTokens: 4096, reasoningTokens: 1180)
        #expect(try cost("gemini-2.5-flash", usage) == Cost(costNanos: 4_394_080, promptCacheSavingsNanos: 1_105_920))
    }

    @Test("Gemini 2.5 Pro tier: exactly 200k is base price, above it everything is the tier's")
    func geminiTier() throws {
        // 200 000 × 1.25 + 1000 × 10 = 250 000 + 10 000 = 260 000 µ$
        #expect(try cost("gemini-2.5-pro", Usage(inputTokens: 200_000, outputTokens: 1000)).costNanos == 260_000_000)
        // 250 000 prompt (100 000 cached), 2000 out: 150 000 × 2.50 + 100 000 × 0.25 + 2000 × 15
        // = 375 000 + 25 000 + 30 000 = 430 000 µ$
        let long = Usage(inputTokens: 250_000, outputTokens: 2000, cachedInputTokens: 100_000, reasoningTokens: 500)
        #expect(try cost("gemini-2.5-pro", long).costNanos == 430_000_000)
    }

    @Test("a dated snapshot with its own entry is priced by it")
    func snapshot() throws {
        // 1000 × 5 + 1000 × 15 = 20 000 µ$ (gpt-4o itself would be 12 500 µ$)
        #expect(try cost("gpt-4o-2024-05-13", Usage(inputTokens: 1000, outputTokens: 1000)).costNanos == 20_000_000)
        #expect(try cost("gpt-4o-2024-08-06", Usage(inputTokens: 1000, outputTokens: 1000)).costNanos == 12_500_000)
    }

    @Test("an unknown model is unpriced, never a silent zero-cost priced request")
    func unpriced() {
        let c = CostCalculator.cost(Usage(inputTokens: 1000, outputTokens: 1000), price: MeteringFixtures.table.lookup("mystery-9")?.price)
        #expect(c == .unpriced)
        #expect(!c.priced)
        #expect(CostCalculator.cost(Usage(inputTokens: 1), price: Optional(MeteringFixtures.table.models["gpt-4o"]!)).priced)
    }

    @Test("rounded once per request, half up, to the nano-dollar")
    func rounding() throws {
        // tiny: input $0.0375/1M = 37.5 n$ per token: 1 → 37.5 → 38; 2 → 75; 3 → 112.5 → 113.
        #expect(try cost("tiny", Usage(inputTokens: 1)).costNanos == 38)
        #expect(try cost("tiny", Usage(inputTokens: 2)).costNanos == 75)
        #expect(try cost("tiny", Usage(inputTokens: 3)).costNanos == 113)
        // tiny output: $0.000001/1M = 1 pico-dollar per token: 499 → 0.499 n$ → 0; 500 → 1; 1499 → 1.
        #expect(try cost("tiny", Usage(outputTokens: 499)).costNanos == 0)
        #expect(try cost("tiny", Usage(outputTokens: 500)).costNanos == 1)
        #expect(try cost("tiny", Usage(outputTokens: 1499)).costNanos == 1)
        // Once per request, not per component: 1 in + 500 out = 37.5 + 0.5 = 38 n$ exactly, where
        // rounding each part first would give 38 + 1 = 39.
        #expect(try cost("tiny", Usage(inputTokens: 1, outputTokens: 500)).costNanos == 38)
        #expect(CostCalculator.roundedDivision(-1500, by: 1000) == -2)
        #expect(CostCalculator.roundedDivision(-1499, by: 1000) == -1)
    }

    @Test("negative or inconsistent counts never produce negative cost")
    func defensive() throws {
        // cached > input: nothing is billed as uncached.
        let c = try cost("gpt-4o", Usage(inputTokens: 10, outputTokens: -5, cachedInputTokens: 20))
        #expect(c.costNanos == 25_000)  // 20 × 1.25 µ$
    }

    @Test("charged = cost × (1 + markup), markup rounded half up once")
    func markup() {
        #expect(CostCalculator.charged(1_000_000, markupBasisPoints: 2000) == 1_200_000)
        #expect(CostCalculator.charged(1_000_000, markup: Markup(percent: "20")!) == 1_200_000)
        // 1 000 001 × 12.5 % = 125 000.125 → 125 000
        #expect(CostCalculator.charged(1_000_001, markup: Markup(percent: "12.5")!) == 1_125_001)
        // 101 × 0.5 % = 0.505 → 1
        #expect(CostCalculator.charged(101, markup: Markup(percent: "0.5")!) == 102)
        // 3 × 33.3333 % = 0.999999 → 1
        #expect(CostCalculator.charged(3, markup: Markup(percent: "33.3333")!) == 4)
        #expect(CostCalculator.charged(12_345, markup: .none) == 12_345)
        // docs/pricing.md's worked example: $0.013101 at 12.5 % → 13 101 000 + 1 637 625 n$
        #expect(CostCalculator.charged(13_101_000, markup: Markup(percent: "12.5")!) == 14_738_625)
        #expect(CostCalculator.charged(0, markup: Markup(percent: "50")!) == 0)
        // A discount: −10 % of 15 = −1.5 → −2
        #expect(CostCalculator.charged(15, markup: Markup(percent: "-10")!) == 13)
        // Large costs do not overflow the intermediate product: $5 000 at 150 %.
        #expect(CostCalculator.charged(5_000_000_000_000, markup: Markup(percent: "150")!) == 12_500_000_000_000)
        #expect(Markup(percent: "12.34567") == nil)
        #expect(Markup(percent: "abc") == nil)
    }

    @Test("budget worst case: input estimate plus the output cap, else the model's limit, rounded up")
    func worstCase() throws {
        let gpt4o = try #require(MeteringFixtures.table.models["gpt-4o"])
        // 1000 × 2.50 + 500 × 10 = 2500 + 5000 = 7500 µ$
        #expect(CostCalculator.worstCaseNanos(inputTokens: 1000, outputCap: 500, price: gpt4o) == 7_500_000)
        // no cap: 16 384 × 10 = 163 840 µ$ + 2500 µ$
        #expect(CostCalculator.worstCaseNanos(inputTokens: 1000, outputCap: nil, price: gpt4o) == 166_340_000)
        // 37.5 n$ rounds up to 38 for a reservation.
        let tiny = try #require(MeteringFixtures.table.models["tiny"])
        #expect(CostCalculator.worstCaseNanos(inputTokens: 1, outputCap: 0, price: tiny) == 38)
        #expect(CostCalculator.worstCaseNanos(inputTokens: 0, outputCap: 1, price: tiny) == 1)
    }
}
