import Foundation
import Testing
@testable import TollgateCore

@Suite("Usage from whole answers, normalized (SPEC §5), then priced")
struct UsageExtractionTests {
    private func parse(_ fixture: String, _ format: ProviderFormat, _ endpoint: Endpoint) throws -> (model: String?, usage: Usage?) {
        UsageParser.parse(body: try MeteringFixtures.bytes(fixture), format: format, endpoint: endpoint)
    }

    private func price(_ model: String?, _ usage: Usage?) throws -> Cost {
        let name = try #require(model)
        let price = try #require(MeteringFixtures.table.lookup(name)).price
        return CostCalculator.cost(try #require(usage), price: price)
    }

    @Test("OpenAI chat completion: prompt, cached, completion; text that looks like usage is ignored")
    func openAIChat() throws {
        let (model, usage) = try parse("openai_chat_completion.json", .openai, .chat)
        #expect(model == "gpt-4o-2024-08-06")
        #expect(usage == Usage(inputTokens: 2006, outputTokens: 300, cachedInputTokens: 1920))
        // 86 × 2.50 + 1920 × 1.25 + 300 × 10 = 5615 µ$ → "0.005615"
        #expect(Money.decimalString(try price(model, usage).costNanos) == "0.005615")
    }

    @Test("OpenAI Responses API: input_tokens_details.cached_tokens, output_tokens_details.reasoning_tokens")
    func openAIResponses() throws {
        let (model, usage) = try parse("openai_responses.json", .openai, .responses)
        #expect(model == "o3-2025-04-16")
        #expect(usage == Usage(inputTokens: 1200, outputTokens: 900, cachedInputTokens: 1024, reasoningTokens: 640))
        // 176 × 2 + 1024 × 0.50 + 900 × 8 = 8064 µ$
        #expect(try price(model, usage).costNanos == 8_064_000)
    }

    @Test("OpenAI embeddings: prompt tokens only")
    func embeddings() throws {
        let (model, usage) = try parse("openai_embeddings.json", .openai, .embedding)
        #expect(model == "text-embedding-3-small")
        #expect(usage == Usage(inputTokens: 8))
        // 8 × 0.02 = 0.16 µ$ = 160 n$
        #expect(try price(model, usage).costNanos == 160)
    }

    @Test("OpenAI legacy completions and DeepSeek's cache-hit field")
    func completionsAndDeepSeek() {
        let body = #"{"id":"cmpl-1","object":"text_completion","model":"gpt-3.5-turbo-instruct","choices":[{"text":"hi","index":0}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#
        let parsed = UsageParser.parse(body: Array(body.utf8), format: .openai, endpoint: .completion)
        #expect(parsed.model == "gpt-3.5-turbo-instruct")
        #expect(parsed.usage == Usage(inputTokens: 5, outputTokens: 7))
        let deepseek = #"{"model":"deepseek-chat","usage":{"prompt_tokens":100,"completion_tokens":10,"total_tokens":110,"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":36}}"#
        #expect(UsageParser.parse(body: Array(deepseek.utf8), format: .openai, endpoint: .chat).usage
            == Usage(inputTokens: 100, outputTokens: 10, cachedInputTokens: 64))
    }

    @Test("Anthropic message: cache reads and writes added into input")
    func anthropic() throws {
        let (model, usage) = try parse("anthropic_message.json", .anthropic, .messages)
        #expect(model == "claude-sonnet-4-5-20250929")
        #expect(usage == Usage(inputTokens: 13542, outputTokens: 250, cachedInputTokens: 12000, cacheWriteTokens: 1500))
        // 42 × 3 + 12000 × 0.30 + 1500 × 3.75 + 250 × 15 = 13101 µ$
        #expect(try price(model, usage) == Cost(costNanos: 13_101_000, promptCacheSavingsNanos: 31_275_000))
    }

    @Test("Gemini generateContent: thoughts are output and reasoning; cached is part of the prompt")
    func gemini() throws {
        let (model, usage) = try parse("gemini_generate_content.json", .gemini, .generate)
        #expect(model == "gemini-2.5-flash")
        #expect(usage == Usage(inputTokens: 5000, outputTokens: 1600, cachedInputTokens: 4096, reasoningTokens: 1180))
        #expect(try price(model, usage).costNanos == 4_394_080)
    }

    @Test("Gemini stream answered as a JSON array: the last usageMetadata wins")
    func geminiArray() throws {
        let (model, usage) = try parse("gemini_stream_array.json", .gemini, .generate)
        #expect(model == "gemini-2.5-flash")
        #expect(usage == Usage(inputTokens: 12, outputTokens: 35, reasoningTokens: 30))
    }

    @Test("no usage in the body: nil, and metered(...) falls back to the request's estimate")
    func missing() {
        for body in ["", "not json", #"{"error":{"message":"x"}}"#, #"{"model":"gpt-4o","usage":null}"#, #"{"usage":{"prompt_tokens":"#] {
            #expect(UsageParser.parse(body: Array(body.utf8), format: .openai, endpoint: .chat).usage == nil, "\(body)")
        }
        let metered = UsageParser.metered(body: Array(#"{"model":"gpt-4o"}"#.utf8), format: .openai, endpoint: .chat, estimatedInputTokens: 33)
        #expect(metered == MeteredUsage(model: "gpt-4o", usage: Usage(inputTokens: 33), source: .estimated))
        let reported = UsageParser.metered(
            body: Array(#"{"model":"m","usage":{"prompt_tokens":3,"completion_tokens":4}}"#.utf8), format: .openai,
            endpoint: .chat, estimatedInputTokens: 33)
        #expect(reported.source == .provider && reported.usage == Usage(inputTokens: 3, outputTokens: 4))
    }

    @Test("already parsed objects normalize the same way")
    func dictionaries() {
        #expect(ProviderUsage(dictionary: ["prompt_tokens": 10, "completion_tokens": 5, "prompt_tokens_details": ["cached_tokens": 4],
            "completion_tokens_details": ["reasoning_tokens": 2]]).normalized(.openai) == Usage(inputTokens: 10, outputTokens: 5, cachedInputTokens: 4, reasoningTokens: 2))
        #expect(ProviderUsage(dictionary: ["input_tokens": 10, "output_tokens": 5, "input_tokens_details": ["cached_tokens": 4]]).normalized(.openai)
            == Usage(inputTokens: 10, outputTokens: 5, cachedInputTokens: 4))
        #expect(ProviderUsage(dictionary: ["input_tokens": 1, "cache_read_input_tokens": 2, "cache_creation_input_tokens": 3, "output_tokens": 4]).normalized(.anthropic)
            == Usage(inputTokens: 6, outputTokens: 4, cachedInputTokens: 2, cacheWriteTokens: 3))
        #expect(ProviderUsage(dictionary: ["promptTokenCount": 7, "candidatesTokenCount": 1, "thoughtsTokenCount": 2]).normalized(.gemini)
            == Usage(inputTokens: 7, outputTokens: 3, reasoningTokens: 2))
    }

    @Test("a model name with JSON escapes is decoded")
    func escapedModel() {
        let body = #"{"model":"acme\/fine-tune \u00e9","usage":{"prompt_tokens":1}}"#
        #expect(UsageParser.parse(body: Array(body.utf8), format: .openai, endpoint: .chat).model == "acme/fine-tune é")
    }
}
