import Foundation
import Testing
@testable import TollgateCore

@Suite("Pricing: loading pricing.json and matching model names (SPEC §6)")
struct PricingLookupTests {
    let table = MeteringFixtures.table

    @Test("prices load as integer micro-dollars per million tokens")
    func units() throws {
        let gpt4o = try #require(table.models["gpt-4o"])
        #expect(gpt4o.rates == ModelPrice.Rates(input: 2_500_000, output: 10_000_000, cachedInput: 1_250_000, cacheWrite: 3_125_000))
        #expect(gpt4o.maxOutputTokens == 16384)
        #expect(gpt4o.provider == "openai")
        #expect(table.models["tiny"]?.rates.output == 1)
        #expect(table.version == "test-2")
    }

    @Test("missing cached_input bills cache reads at the input rate; missing cache_write is 1.25 × input")
    func defaults() throws {
        let dated = try #require(table.models["gpt-4o-2024-05-13"])
        #expect(dated.rates.cachedInput == 5_000_000)
        #expect(dated.rates.cacheWrite == 6_250_000)
        // 0.0375 × 1.25 = 0.046875 exactly.
        #expect(table.models["tiny"]?.rates.cacheWrite == 46_875)
        // An odd pico rate rounds half up: 1 × 1.25 → 1.
        #expect(ModelPrice.Rates.defaultCacheWrite(input: 1) == 1)
        #expect(ModelPrice.Rates.defaultCacheWrite(input: 2) == 3)
    }

    @Test("exact name first, so a dated snapshot with its own price wins over date stripping")
    func exactFirst() {
        #expect(table.lookup("gpt-4o-2024-05-13")?.name == "gpt-4o-2024-05-13")
        #expect(table.lookup("gpt-4o-2024-05-13")?.price.rates.input == 5_000_000)
        #expect(table.lookup("gpt-4o")?.name == "gpt-4o")
    }

    @Test("date suffixes are removed in every style providers use", arguments: [
        ("gpt-4o-2024-08-06", "gpt-4o"), ("gpt-4o-2024-11-20", "gpt-4o"), ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"), ("gpt-4-0613", "gpt-4"), ("o3-2025-04-16", "o3"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
    ])
    func dateSuffix(model: String, listed: String) {
        #expect(table.lookup(model)?.name == listed)
    }

    @Test("aliases, also after a date suffix or a vendor prefix")
    func aliases() {
        #expect(table.lookup("my-default")?.name == "gpt-4o-mini")
        #expect(table.lookup("claude-sonnet-4.5")?.name == "claude-sonnet-4-5")
        #expect(table.lookup("anthropic/claude-sonnet-4.5")?.name == "claude-sonnet-4-5")
    }

    @Test("path prefixes are dropped: Gemini's models/, OpenRouter's vendor/")
    func prefixes() {
        #expect(table.lookup("models/gemini-2.5-pro")?.name == "gemini-2.5-pro")
        #expect(table.lookup("openai/gpt-4o")?.name == "gpt-4o")
        #expect(table.lookup("openai/gpt-4o-2024-08-06")?.name == "gpt-4o")
        #expect(table.lookup("google/models/gemini-2.5-flash")?.name == "gemini-2.5-flash")
    }

    // Bedrock and Vertex bill Anthropic's models at Anthropic's list prices (USD per 1M tokens,
    // https://docs.anthropic.com/en/docs/about-claude/pricing; https://aws.amazon.com/bedrock/pricing/
    // lists the same per 1K): Claude 3.7 Sonnet, 3.5 Sonnet and Sonnet 4.5 $3 / $15, 3.5 Haiku
    // $0.80 / $4, Opus 4.1 $15 / $75. (Bedrock's in-region endpoints of Claude 4.5 models charge
    // 10 % more than its global ones: docs/pricing.md says how to price them.)
    @Test("Bedrock and Vertex model ids find the model's list price", arguments: [
        ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3-7-sonnet", 3_000_000, 15_000_000),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku", 800_000, 4_000_000),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5", 3_000_000, 15_000_000),
        ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3-7-sonnet", 3_000_000, 15_000_000),
        ("claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet", 3_000_000, 15_000_000),
        ("claude-opus-4-1@20250805", "claude-opus-4-1", 15_000_000, 75_000_000),
        ("publishers/anthropic/models/claude-3-7-sonnet@20250219", "claude-3-7-sonnet", 3_000_000, 15_000_000),
    ] as [(String, String, Int64, Int64)])
    func cloudModelIDs(id: String, listed: String, input: Int64, output: Int64) throws {
        let shipped = try MeteringFixtures.shippedPricing()
        let hit = try #require(shipped.lookup(id, provider: "bedrock"))
        #expect(hit.name == listed)
        #expect(hit.price.rates.input == input && hit.price.rates.output == output)
    }

    @Test("only cloud decorations are taken off: a -vN that is part of a name stays")
    func cloudDecorationsOnly() throws {
        #expect(ModelName.withoutCloudDecorations("deepseek-v3") == nil)
        #expect(ModelName.withoutCloudDecorations("gpt-4o-mini") == nil)
        #expect(ModelName.withoutCloudDecorations("meta.llama3-1-70b-instruct-v1:0") == "llama3-1-70b-instruct")
        #expect(ModelName.withoutCloudDecorations("amazon.nova-pro-v1:0") == "nova-pro")
        #expect(try MeteringFixtures.shippedPricing().lookup("amazon.nova-pro-v1:0") == nil)
        #expect(try MeteringFixtures.shippedPricing().lookup("deepseek-v3-0324")?.name == "deepseek-v3")
    }

    @Test("a model two providers serve at different prices matches per provider")
    func providerQualified() {
        #expect(table.lookup("openai/gpt-oss-20b", provider: "together")?.name == "together/openai/gpt-oss-20b")
        #expect(table.lookup("openai/gpt-oss-20b", provider: "groq")?.name == "openai/gpt-oss-20b")
        #expect(table.lookup("openai/gpt-oss-20b")?.price.provider == "groq")
        #expect(table.lookup("gpt-4o", provider: "together")?.name == "gpt-4o")
    }

    @Test("unknown names and other casings are not priced", arguments: [
        "brand-new-model", "GPT-4o", "gpt-4o-turbo-max", "", "/", "models/", "ft:gpt-4o-mini-2024-07-18:acme::abc",
    ])
    func unknown(model: String) {
        #expect(table.lookup(model) == nil)
    }

    @Test("date-suffix rule on its own")
    func dateRule() {
        #expect(PricingTable.withoutDateSuffix("gpt-4o-2024-08-06") == "gpt-4o")
        #expect(PricingTable.withoutDateSuffix("claude-3-5-sonnet@20240620") == "claude-3-5-sonnet")
        #expect(PricingTable.withoutDateSuffix("gpt-3.5-turbo-0125") == "gpt-3.5-turbo")
        #expect(PricingTable.withoutDateSuffix("gpt-4o") == nil)
        #expect(PricingTable.withoutDateSuffix("llama-3.3-70b") == nil)
        #expect(PricingTable.withoutDateSuffix("-20250929") == nil)
    }

    @Test("tiers: chosen by the request's input tokens, strictly above the threshold")
    func tiers() throws {
        let pro = try #require(table.models["gemini-2.5-pro"])
        #expect(pro.rates(forInputTokens: 200_000).input == 1_250_000)
        #expect(pro.rates(forInputTokens: 200_001).input == 2_500_000)
        #expect(pro.rates(forInputTokens: 200_001).output == 15_000_000)
        #expect(pro.rates(forInputTokens: 200_001).cachedInput == 250_000)
        // The tier lists no cache_write: 1.25 × the tier's input.
        #expect(pro.rates(forInputTokens: 300_000).cacheWrite == 3_125_000)
    }

    @Test("a tier's missing fields keep the base's listed values")
    func tierInheritance() throws {
        let table = try PricingTable(text: """
            {"version":"v","models":{"m":{"input":"1","output":"2","cached_input":"0.1",
              "tiers":[{"above_input_tokens":1000,"input":"3"},{"above_input_tokens":10,"output":"9"}]}}}
            """)
        let price = try #require(table.models["m"])
        #expect(price.tiers.map(\.aboveInputTokens) == [10, 1000])
        #expect(price.rates(forInputTokens: 500) == ModelPrice.Rates(input: 1_000_000, output: 9_000_000, cachedInput: 100_000))
        #expect(price.rates(forInputTokens: 5000) == ModelPrice.Rates(input: 3_000_000, output: 2_000_000, cachedInput: 100_000))
    }

    @Test("a broken pricing file is refused with a message naming the model and field", arguments: [
        (#"{"version":"v","models":{"m":{"input":2.5,"output":"1"}}}"#, "model 'm': input must be a decimal string"),
        (#"{"version":"v","models":{"m":{"input":"0.0000001","output":"1"}}}"#, "at most 6 decimals"),
        (#"{"version":"v","models":{"m":{"input":"-1","output":"1"}}}"#, "non-negative"),
        (#"{"version":"v","models":{"m":{"output":"1"}}}"#, "model 'm' has no input price"),
        (#"{"version":"v","models":{"m":{"input":"1","tiers":[{"input":"2"}]}}}"#, "needs above_input_tokens"),
        (#"{"version":"v","models":{"m":{"input":"1"}},"aliases":{"a":"nope"}}"#, "alias 'a' points to 'nope'"),
        (#"{"models":{}}"#, "no \"version\""),
        (#"{"version":"v"}"#, "no \"models\""),
        (#"{"version":"v","models":{}"#, "not valid JSON"),
        (#"[]"#, "must be a JSON object"),
    ])
    func refused(json: String, message: String) {
        #expect {
            try PricingTable(text: json)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("the shipped pricing.json: at least 150 models, every provider, known prices, built-in copy identical")
    func shipped() throws {
        let shipped = try MeteringFixtures.shippedPricing()
        #expect(shipped.models.count >= 150)
        let providers = Set(shipped.models.values.compactMap(\.provider))
        for name in ["openai", "anthropic", "gemini", "groq", "mistral", "deepseek", "together", "xai", "fireworks"] {
            #expect(providers.contains(name), "no \(name) models")
        }
        func rates(_ model: String) -> ModelPrice.Rates? { shipped.lookup(model)?.price.rates }
        #expect(rates("gpt-4o") == ModelPrice.Rates(input: 2_500_000, output: 10_000_000, cachedInput: 1_250_000))
        #expect(rates("gpt-4o-2024-08-06")?.input == 2_500_000)
        #expect(rates("gpt-4o-2024-05-13")?.input == 5_000_000)
        #expect(rates("gpt-4o-2024-05-13")?.output == 15_000_000)
        #expect(rates("gpt-4o-mini")?.input == 150_000)
        #expect(rates("claude-sonnet-4-5-20250929")
            == ModelPrice.Rates(input: 3_000_000, output: 15_000_000, cachedInput: 300_000, cacheWrite: 3_750_000))
        #expect(rates("anthropic/claude-sonnet-4.5")?.input == 3_000_000)
        #expect(rates("models/gemini-2.5-pro")?.input == 1_250_000)
        #expect(shipped.lookup("gemini-2.5-pro")?.price.rates(forInputTokens: 250_000).input == 2_500_000)
        #expect(rates("text-embedding-3-small")?.input == 20_000)
        #expect(shipped.lookup("brand-new-model") == nil)
        let builtIn = PricingTable.builtIn()
        #expect(builtIn.version == shipped.version)
        #expect(builtIn.models == shipped.models)
        #expect(builtIn.aliases == shipped.aliases)
    }

    @Test("Claude prices are Anthropic's published list prices (scripts/convert_pricing.py CORRECTIONS)")
    func publishedClaudePrices() throws {
        let shipped = try MeteringFixtures.shippedPricing()
        func price(_ model: String) -> ModelPrice? { shipped.lookup(model)?.price }
        // https://docs.anthropic.com/en/docs/about-claude/pricing: Claude Sonnet 3.7 is $3 input,
        // $3.75 5-minute cache writes, $0.30 cache hits, $15 output per MTok (the source map had
        // $3.60 / $18, 20 % over).
        let sonnet37 = ModelPrice.Rates(input: 3_000_000, output: 15_000_000, cachedInput: 300_000, cacheWrite: 3_750_000)
        #expect(price("claude-3-7-sonnet-20250219")?.rates == sonnet37)
        #expect(price("claude-3-7-sonnet-latest")?.rates == sonnet37)
        #expect(price("anthropic/claude-3.7-sonnet")?.rates == sonnet37)
        // Same page, long context pricing: over 200K input tokens Sonnet 4 and 4.5 are $6 / $22.50.
        for model in ["claude-sonnet-4-20250514", "claude-sonnet-4-5-20250929"] {
            let long = price(model)?.rates(forInputTokens: 200_001)
            #expect(long == ModelPrice.Rates(input: 6_000_000, output: 22_500_000, cachedInput: 600_000, cacheWrite: 7_500_000), "\(model)")
            #expect(price(model)?.rates(forInputTokens: 200_000).input == 3_000_000, "\(model)")
        }
        // Same page: Haiku 3.5 $0.80 / $4, Opus 4.1 $15 / $75, Opus 4.5 $5 / $25, Haiku 4.5 $1 / $5.
        #expect(price("claude-3-5-haiku-20241022")?.rates == ModelPrice.Rates(input: 800_000, output: 4_000_000, cachedInput: 80_000, cacheWrite: 1_000_000))
        #expect(price("claude-opus-4-1")?.rates == ModelPrice.Rates(input: 15_000_000, output: 75_000_000, cachedInput: 1_500_000, cacheWrite: 18_750_000))
        #expect(price("claude-opus-4-5")?.rates == ModelPrice.Rates(input: 5_000_000, output: 25_000_000, cachedInput: 500_000, cacheWrite: 6_250_000))
        #expect(price("claude-haiku-4-5")?.rates == ModelPrice.Rates(input: 1_000_000, output: 5_000_000, cachedInput: 100_000, cacheWrite: 1_250_000))
    }
}
