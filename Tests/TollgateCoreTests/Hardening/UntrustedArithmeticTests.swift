import Testing
@testable import TollgateCore

/// Token counts and caps come from clients and providers: no value of theirs may trap or lower a total.
@Suite("Untrusted numbers: bounded where they enter, arithmetic that cannot trap")
struct UntrustedArithmeticTests {
    private var gpt4o: ModelPrice { MeteringFixtures.table.lookup("gpt-4o")!.price }

    @Test("usage of Int.max tokens is clamped, flagged, and prices without trapping")
    func hugeUsage() {
        let absurd = Usage(inputTokens: .max, outputTokens: .max, cachedInputTokens: .max, cacheWriteTokens: .max, reasoningTokens: .max)
        let (usage, clamped) = absurd.bounded()
        #expect(clamped)
        #expect(usage.inputTokens == Usage.maxTokens)
        #expect(usage.outputTokens == Usage.maxTokens)
        #expect(usage.cachedInputTokens + usage.cacheWriteTokens <= usage.inputTokens)
        #expect(usage.reasoningTokens <= usage.outputTokens)
        let cost = CostCalculator.cost(absurd, price: gpt4o)
        #expect(cost.costNanos > 0)
        #expect(cost.costNanos <= CostCalculator.maxRequestNanos)
    }

    @Test("negative counts become 0 and are flagged; ordinary usage passes unchanged")
    func negativeUsage() {
        let (usage, clamped) = Usage(inputTokens: -5, outputTokens: 10, cachedInputTokens: -1).bounded()
        #expect(clamped)
        #expect(usage == Usage(inputTokens: 0, outputTokens: 10))
        let normal = Usage(inputTokens: 2006, outputTokens: 300, cachedInputTokens: 1920, reasoningTokens: 100)
        #expect(normal.bounded() == (normal, false))
    }

    @Test("a provider's usage object with INT64_MAX counts normalizes without trapping, every format")
    func providerObjects() {
        let max = String(Int64.max)
        let bodies: [(ProviderFormat, String)] = [
            (.openai, #"{"prompt_tokens":\#(max),"completion_tokens":\#(max),"total_tokens":\#(max)}"#),
            (.openai, #"{"prompt_tokens":-\#(max),"total_tokens":\#(max)}"#),
            (.anthropic, #"{"input_tokens":\#(max),"cache_read_input_tokens":\#(max),"cache_creation_input_tokens":\#(max),"output_tokens":1}"#),
            (.gemini, #"{"promptTokenCount":1,"candidatesTokenCount":\#(max),"thoughtsTokenCount":\#(max)}"#),
        ]
        for (format, body) in bodies {
            let usage = Array(body.utf8).withUnsafeBufferPointer { ProviderUsage(json: $0)!.normalized(format) }
            let (bounded, _) = usage.bounded()
            #expect((0...Usage.maxTokens).contains(bounded.inputTokens), "\(format) \(body)")
            _ = CostCalculator.cost(usage, price: gpt4o)
        }
    }

    @Test("max_tokens of 10^16 reserves no more than the model can write")
    func hugeCap() {
        let limit = gpt4o.maxOutputTokens ?? 0
        #expect(limit > 0)
        let capped = CostCalculator.worstCaseNanos(inputTokens: 100, outputCap: 10_000_000_000_000_000, price: gpt4o)
        let atLimit = CostCalculator.worstCaseNanos(inputTokens: 100, outputCap: limit, price: gpt4o)
        #expect(capped == atLimit)
        #expect(CostCalculator.worstCaseNanos(inputTokens: .max, outputCap: .max, price: gpt4o) <= CostCalculator.maxRequestNanos)
        #expect(CostCalculator.worstCaseNanos(inputTokens: -1, outputCap: -1, price: gpt4o) == 0)
    }

    @Test("a price the operator got absurdly wrong saturates at the per-request bound instead of trapping")
    func absurdPrice() {
        let price = ModelPrice(rates: .init(input: .max, output: .max, cachedInput: .max, cacheWrite: .max), maxOutputTokens: .max)
        let cost = CostCalculator.cost(Usage(inputTokens: 1_000_000, outputTokens: 1_000_000), price: price)
        #expect(cost.costNanos == CostCalculator.maxRequestNanos)
        #expect(CostCalculator.worstCaseNanos(inputTokens: 10, outputCap: nil, price: price) == CostCalculator.maxRequestNanos)
    }

    @Test("a pricing file's input rate of two trillion dollars with no cache_write loads; the default write rate clamps")
    func absurdInputRateDefaultCacheWrite() throws {
        // FuzzPricing's reproducer (Fuzz/crashes/FuzzPricing-1): 1.25 × 2·10^18 pico overflowed Int64.
        let table = try PricingTable(text: #"{"version":"1","models":{"m":{"input":"2000000000000"}}}"#)
        let rates = try #require(table.models["m"]).rates
        #expect(rates.input == 2_000_000_000_000_000_000)
        #expect(rates.cacheWrite == 2_500_000_000_000_000_000)
        #expect(ModelPrice.Rates.defaultCacheWrite(input: .max) == .max)
        #expect(ModelPrice.Rates.defaultCacheWrite(input: 2) == 3)
        let cost = CostCalculator.cost(Usage(inputTokens: 1000, cacheWriteTokens: 1000), price: try #require(table.models["m"]))
        #expect(cost.costNanos == CostCalculator.maxRequestNanos)
    }

    @Test("markup on any cost cannot trap; ordinary markup stays exact")
    func markup() {
        #expect(CostCalculator.charged(.max, markup: Markup(partsPerMillion: .max)) == .max)
        #expect(CostCalculator.charged(1_000_000, markup: Markup(partsPerMillion: 200_000)) == 1_200_000)
        #expect(CostCalculator.charged(.min, markup: Markup(partsPerMillion: .max)) == .min)
        #expect(CostCalculator.roundedDivision(.min, by: 1000) == -9_223_372_036_854_776)
    }

    @Test("the ledger's sums saturate: a maximal reservation and settlement cannot trap")
    func ledger() throws {
        let budget = Budget(id: "bud_1", scope: .org, scopeID: "acme", org: "acme", limitNanos: .max, period: .total, enforcement: .soft)
        let ledger = BudgetLedger(clock: { 0 })
        ledger.load([budget], spentNanos: { _, _ in .max - 1 }, fired: [])
        let subjects = BudgetSubject.covering(org: "acme", team: nil, keyID: "k")
        let reservation = try #require(try ledger.reserve(subjects, worstCaseNanos: .max))
        #expect(ledger.accounts.first?.reservedNanos == .max)
        _ = ledger.settle(reservation, costNanos: .max)
        #expect(ledger.accounts.first?.spentNanos == .max)
        #expect(ledger.accounts.first?.reservedNanos == 0)
    }
}
