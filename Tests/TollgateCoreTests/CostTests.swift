import Foundation
import Testing
@testable import TollgateCore

private let table = try! PricingTable(text: """
    {"version":"test-1","models":{
      "gpt-4o":{"input":"2.50","output":"10","cached_input":"1.25"},
      "gpt-4o-2024-05-13":{"input":"5","output":"15"},
      "claude-sonnet-4-5":{"input":"3","output":"15","cached_input":"0.30","cache_write":"3.75"},
      "gemini-2.5-pro":{"input":"1.25","output":"10","cached_input":"0.125",
        "tiers":[{"above_input_tokens":200000,"input":"2.50","output":"15","cached_input":"0.25"}]},
      "o3":{"input":"2","output":"8","cached_input":"0.5"},
      "tiny":{"input":"0.0375","output":"0"}},
     "aliases":{"my-alias":"gpt-4o"}}
    """)

private func cost(_ model: String, _ usage: Usage) throws -> Cost {
    CostCalculator.cost(usage, price: try #require(table.lookup(model)).price)
}

@Suite("Pricing: matching and exact cost per provider billing rule")
struct CostTests {
    @Test("exact name, alias, date suffix; dated snapshots with their own price win")
    func matching() {
        #expect(table.lookup("gpt-4o")?.name == "gpt-4o")
        #expect(table.lookup("my-alias")?.name == "gpt-4o")
        #expect(table.lookup("gpt-4o-2024-08-06")?.name == "gpt-4o")
        #expect(table.lookup("gpt-4o-2024-05-13")?.name == "gpt-4o-2024-05-13")
        #expect(table.lookup("claude-sonnet-4-5-20250929")?.name == "claude-sonnet-4-5")
        #expect(table.lookup("claude-sonnet-4-5@20250929")?.name == "claude-sonnet-4-5")
        #expect(table.lookup("models/gemini-2.5-pro")?.name == "gemini-2.5-pro")
        #expect(table.lookup("unknown-model") == nil)
    }

    @Test("OpenAI: cached prompt tokens at the cached rate, reasoning inside output")
    func openAICached() throws {
        // 1000 prompt (400 cached), 500 completion (200 reasoning):
        // 600 × 2.50 + 400 × 1.25 + 500 × 10 = 1500 + 500 + 5000 = 7000 µ$/M → $0.007
        let usage = Usage(inputTokens: 1000, outputTokens: 500, cachedInputTokens: 400, reasoningTokens: 200)
        let c = try cost("gpt-4o", usage)
        #expect(c.costNanos == 7_000_000)
        // savings: 400 × (2.50 − 1.25) = 500 µ$/M → $0.0005
        #expect(c.promptCacheSavingsNanos == 500_000)
        #expect(Money.decimalString(c.costNanos) == "0.007")
    }

    @Test("a dated snapshot uses its own price")
    func snapshot() throws {
        // 1000 × 5 + 1000 × 15 = 20000 µ$/M → $0.02
        #expect(try cost("gpt-4o-2024-05-13", Usage(inputTokens: 1000, outputTokens: 1000)).costNanos == 20_000_000)
    }

    @Test("Anthropic: cache reads and writes at their own rates, write premium netted from savings")
    func anthropicCache() throws {
        // normalized input 100 + 2000 read + 1000 written = 3100; output 300.
        let usage = UsageParser.anthropic([
            "input_tokens": 100, "cache_read_input_tokens": 2000, "cache_creation_input_tokens": 1000, "output_tokens": 300,
        ])
        #expect(usage == Usage(inputTokens: 3100, outputTokens: 300, cachedInputTokens: 2000, cacheWriteTokens: 1000))
        // 100 × 3 + 2000 × 0.30 + 1000 × 3.75 + 300 × 15 = 300 + 600 + 3750 + 4500 = 9150 µ$/M → $0.00915
        let c = try cost("claude-sonnet-4-5", usage)
        #expect(c.costNanos == 9_150_000)
        // savings: 2000 × (3 − 0.30) − 1000 × (3.75 − 3) = 5400 − 750 = 4650 → $0.00465
        #expect(c.promptCacheSavingsNanos == 4_650_000)
    }

    @Test("Gemini: output is candidates + thoughts; the >200k tier applies to long prompts")
    func geminiThoughtsAndTiers() throws {
        let usage = UsageParser.gemini([
            "promptTokenCount": 1000, "cachedContentTokenCount": 200, "candidatesTokenCount": 50, "thoughtsTokenCount": 150,
        ])
        #expect(usage == Usage(inputTokens: 1000, outputTokens: 200, cachedInputTokens: 200, reasoningTokens: 150))
        // 800 × 1.25 + 200 × 0.125 + 200 × 10 = 1000 + 25 + 2000 = 3025 µ$/M → $0.003025
        #expect(try cost("gemini-2.5-pro", usage).costNanos == 3_025_000)
        // 300 000 input, 1000 output above the tier: 300000 × 2.50 + 1000 × 15 = 765 000 µ$/M → $0.765
        #expect(try cost("gemini-2.5-pro", Usage(inputTokens: 300_000, outputTokens: 1000)).costNanos == 765_000_000)
    }

    @Test("rounding: once per request, half up, to the nano-dollar")
    func rounding() throws {
        // $0.0375 per 1M tokens = 37.5 n$ per token: 1 token → 37.5 → 38; 2 tokens → 75 exactly.
        #expect(try cost("tiny", Usage(inputTokens: 1)).costNanos == 38)
        #expect(try cost("tiny", Usage(inputTokens: 2)).costNanos == 75)
        // gpt-4o input $2.50/M = 2500 n$ per token.
        #expect(try cost("gpt-4o", Usage(inputTokens: 1)).costNanos == 2500)
        #expect(CostCalculator.charged(1_000_000, markupBasisPoints: 2000) == 1_200_000)
    }

    @Test("money renders exactly and parses back")
    func money() {
        #expect(Money(nanos: 123_456).decimalString == "0.000123456")
        #expect(Money(nanos: 12_500_000_000).decimalString == "12.5")
        #expect(Money(nanos: 0).decimalString == "0")
        #expect(Money(nanos: -1).decimalString == "-0.000000001")
        #expect(Money(decimal: "10.25")?.nanos == 10_250_000_000)
        #expect(Money(decimal: "0.0000000001") == nil)
    }

    @Test("the shipped pricing.json loads, has ≥ 150 models and matches the built-in copy")
    func shippedPricing() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../pricing.json").path
        let shipped = try PricingTable(json: try #require(FileManager.default.contents(atPath: path)))
        #expect(shipped.models.count >= 150)
        #expect(shipped.lookup("gpt-4o")?.price.rates.input == 2_500_000)
        #expect(shipped.lookup("gpt-4o-2024-05-13")?.price.rates.input == 5_000_000)
        #expect(shipped.lookup("claude-sonnet-4-5-20250929")?.price.rates.cacheWrite == 3_750_000)
        let builtIn = PricingTable.builtIn()
        #expect(builtIn.version == shipped.version)
        #expect(builtIn.models.count == shipped.models.count)
    }
}
