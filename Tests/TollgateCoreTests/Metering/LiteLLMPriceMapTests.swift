import Foundation
import Testing
@testable import TollgateCore

@Suite("LiteLLM price maps read for `tollgate pricing import`")
struct LiteLLMPriceMapTests {
    static let map = """
        {
          "sample_spec": {"max_tokens": "set to max_output_tokens", "input_cost_per_token": 0.0, "litellm_provider": "one of https://docs.litellm.ai/docs/providers", "mode": "one of: chat, embedding"},
          "gpt-4o": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05, "cache_read_input_token_cost": 1.25e-06, "litellm_provider": "openai", "mode": "chat", "max_output_tokens": 16384},
          "gemini/gemini-2.5-pro": {"input_cost_per_token": 1.25e-06, "output_cost_per_token": 1e-05, "input_cost_per_token_above_200k_tokens": 2.5e-06, "output_cost_per_token_above_200k_tokens": 1.5e-05, "litellm_provider": "gemini", "mode": "chat", "max_tokens": 65535},
          "text-embedding-3-small": {"input_cost_per_token": 2e-08, "output_cost_per_token": 0.0, "litellm_provider": "openai", "mode": "embedding"},
          "claude-tiny": {"input_cost_per_token": 3.3333333e-07, "output_cost_per_token": 0.000015, "cache_creation_input_token_cost": 3.75e-06, "litellm_provider": "anthropic", "mode": "chat"},
          "dall-e-3": {"input_cost_per_pixel": 1e-07, "litellm_provider": "openai", "mode": "image_generation"},
          "bedrock/anthropic.claude-x": {"input_cost_per_token": 3e-06, "litellm_provider": "bedrock", "mode": "chat"},
          "gemini-without-prefix": {"input_cost_per_token": 1e-06, "litellm_provider": "gemini", "mode": "chat"},
          "gpt-odd": {"input_cost_per_token": "cheap", "litellm_provider": "openai", "mode": "chat"},
          "not-an-object": 7
        }
        """

    @Test("the models of Tollgate's providers and text modes, priced per million tokens exactly, tiers included")
    func reads() throws {
        let result = try LiteLLMPriceMap.read(Data(Self.map.utf8))
        #expect(result.entries.keys.sorted() == ["claude-tiny", "gemini-2.5-pro", "gpt-4o", "text-embedding-3-small"])
        #expect(result.skipped == 6)
        let gpt = try #require(result.entries["gpt-4o"])
        // $2.50 / $10 / $1.25 per 1M: read from the JSON text, not through a Double (2.5e-06 × 1e6 = 2.5000000000000004 there).
        #expect(gpt == LiteLLMPriceMap.Entry(provider: "openai", input: "2.50", output: "10.00", cachedInput: "1.25", maxOutputTokens: 16384))
        #expect(gpt.json == #"{"provider": "openai", "input": "2.50", "output": "10.00", "cached_input": "1.25", "max_output_tokens": 16384}"#)
        let gemini = try #require(result.entries["gemini-2.5-pro"])
        #expect(gemini.maxOutputTokens == 65535 && gemini.input == "1.25")
        #expect(gemini.tiers == [.init(aboveInputTokens: 200_000, input: "2.50", output: "15.00")])
        #expect(result.entries["text-embedding-3-small"]?.input == "0.02" && result.entries["text-embedding-3-small"]?.output == "0.00")
        // 0.33333333 per 1M rounds to 6 decimals; a cache-write price is kept.
        #expect(result.entries["claude-tiny"]?.input == "0.333333" && result.entries["claude-tiny"]?.cacheWrite == "3.75")
        // What the import writes loads as a pricing file.
        let file = #"{"version": "t", "models": {"gpt-4o": \#(gpt.json), "gemini-2.5-pro": \#(gemini.json)}}"#
        let table = try PricingTable(json: Data(file.utf8))
        #expect(table.models["gpt-4o"]?.rates.input == 2_500_000 && table.models["gemini-2.5-pro"]?.tiers.count == 1)
    }

    @Test("anything but a JSON object of models is refused with a reason")
    func refuses() {
        #expect(throws: LiteLLMPriceMap.ReadError.self) { try LiteLLMPriceMap.read(Data("[1, 2]".utf8)) }
        #expect(throws: LiteLLMPriceMap.ReadError.self) { try LiteLLMPriceMap.read(Data("{".utf8)) }
    }
}
