import Foundation
import Testing
@testable import TollgateCore

@Suite("Usage objects read straight from their bytes")
struct ProviderUsageReadingTests {
    private func read(_ text: String) -> ProviderUsage? {
        Array(text.utf8).withUnsafeBufferPointer { ProviderUsage(json: $0) }
    }

    @Test("every field of the three formats, nested details included, whitespace anywhere")
    func everyField() throws {
        let usage = try #require(
            read(
                """
                { "prompt_tokens" : 10 ,"completion_tokens":5, "total_tokens":15,
                  "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0, "cache_write_tokens": 2},
                  "completion_tokens_details": {"reasoning_tokens": 3, "accepted_prediction_tokens": 0},
                  "prompt_cache_hit_tokens": 6, "input_tokens": 7, "output_tokens": 8,
                  "input_tokens_details": {"cached_tokens": 1}, "output_tokens_details": {"reasoning_tokens": 2},
                  "cache_read_input_tokens": 9, "cache_creation_input_tokens": 11,
                  "cache_creation": {"ephemeral_5m_input_tokens": 11, "ephemeral_1h_input_tokens": 0},
                  "server_tool_use": {"web_search_requests": 0}, "service_tier": "standard",
                  "promptTokenCount": 12, "candidatesTokenCount": 13, "cachedContentTokenCount": 14,
                  "thoughtsTokenCount": 15, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}] }
                """))
        #expect(usage.promptTokens == 10 && usage.completionTokens == 5 && usage.totalTokens == 15)
        #expect(usage.promptTokensDetails == .init(cachedTokens: 4, cacheWriteTokens: 2))
        #expect(usage.completionTokensDetails == .init(reasoningTokens: 3))
        #expect(usage.promptCacheHitTokens == 6 && usage.inputTokens == 7 && usage.outputTokens == 8)
        #expect(usage.inputTokensDetails == .init(cachedTokens: 1))
        #expect(usage.outputTokensDetails == .init(reasoningTokens: 2))
        #expect(usage.cacheReadInputTokens == 9 && usage.cacheCreationInputTokens == 11)
        #expect(usage.promptTokenCount == 12 && usage.candidatesTokenCount == 13)
        #expect(usage.cachedContentTokenCount == 14 && usage.thoughtsTokenCount == 15)
    }

    @Test("null and odd values leave a field unset; whole-number spellings count")
    func oddValues() throws {
        let usage = try #require(
            read(#"{"prompt_tokens": null, "completion_tokens": 12.0, "total_tokens": 1e2, "input_tokens": 2.5, "output_tokens": "7", "prompt_tokens_details": null, "cache_read_input_tokens": -0}"#))
        #expect(usage.promptTokens == nil)
        #expect(usage.completionTokens == 12)
        #expect(usage.totalTokens == 100)
        #expect(usage.inputTokens == nil && usage.outputTokens == nil)
        #expect(usage.promptTokensDetails == nil)
        #expect(usage.cacheReadInputTokens == 0)
        #expect(try #require(read(#"{"prompt_tokens": 99999999999999999999999}"#)).promptTokens == nil)
        #expect(read("{}") == ProviderUsage())
    }

    @Test("text that is not a whole object reads as nothing")
    func notAnObject() {
        for text in ["", "null", "[1]", #"{"prompt_tokens": 1"#, #"{"prompt_tokens" 1}"#, #"{"prompt_tokens": "#, "{\"a"] {
            #expect(read(text) == nil, "\(text)")
        }
    }

    @Test("agrees with a full JSON parse on generated usage objects")
    func agreesWithFoundation() throws {
        var rng = SystemRandomNumberGenerator()
        let counts = ProviderUsage.Field.allCases.filter { !$0.rawValue.hasSuffix("_details") }
        let details = ProviderUsage.Field.allCases.filter { $0.rawValue.hasSuffix("_details") }
        let space = [" ", "", "\n  ", "\t"]
        for _ in 0..<500 {
            var members: [String] = []
            for field in counts.shuffled(using: &rng) where Bool.random(using: &rng) {
                members.append("\"\(field.rawValue)\"\(space.randomElement()!):\(Int.random(in: 0...2_000_000, using: &rng))")
            }
            for field in details where Bool.random(using: &rng) {
                let inner = ProviderUsage.Details.Field.allCases.filter { _ in Bool.random(using: &rng) }
                    .map { "\"\($0.rawValue)\": \(Int.random(in: 0...5000, using: &rng))" }
                members.append("\"\(field.rawValue)\": {\(inner.joined(separator: ","))}")
            }
            if Bool.random(using: &rng) { members.append(#""note": "a \"quoted\" } brace", "list": [1, {"x": [2]}]"#) }
            let text = "{" + members.shuffled(using: &rng).joined(separator: "," + space.randomElement()!) + "}"
            let object = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(read(text) == ProviderUsage(dictionary: object), "\(text)")
        }
    }
}

extension ProviderUsage {
    /// The reference reading: the same fields taken from a fully parsed object (`JSONSerialization`).
    init(dictionary u: [String: Any]) {
        self.init()
        func int(_ key: Field) -> Int? { (u[key.rawValue] as? NSNumber)?.intValue }
        func details(_ key: Field) -> Details? {
            guard let object = u[key.rawValue] as? [String: Any] else { return nil }
            func detail(_ name: Details.Field) -> Int? { (object[name.rawValue] as? NSNumber)?.intValue }
            return Details(
                cachedTokens: detail(.cachedTokens), reasoningTokens: detail(.reasoningTokens),
                cacheWriteTokens: detail(.cacheWriteTokens))
        }
        promptTokens = int(.promptTokens)
        completionTokens = int(.completionTokens)
        totalTokens = int(.totalTokens)
        promptTokensDetails = details(.promptTokensDetails)
        completionTokensDetails = details(.completionTokensDetails)
        promptCacheHitTokens = int(.promptCacheHitTokens)
        inputTokens = int(.inputTokens)
        outputTokens = int(.outputTokens)
        inputTokensDetails = details(.inputTokensDetails)
        outputTokensDetails = details(.outputTokensDetails)
        cacheReadInputTokens = int(.cacheReadInputTokens)
        cacheCreationInputTokens = int(.cacheCreationInputTokens)
        promptTokenCount = int(.promptTokenCount)
        candidatesTokenCount = int(.candidatesTokenCount)
        cachedContentTokenCount = int(.cachedContentTokenCount)
        thoughtsTokenCount = int(.thoughtsTokenCount)
        converseInputTokens = int(.converseInputTokens)
        converseOutputTokens = int(.converseOutputTokens)
        converseCacheReadInputTokens = int(.converseCacheReadInputTokens)
        converseCacheWriteInputTokens = int(.converseCacheWriteInputTokens)
        inputTokenCount = int(.inputTokenCount)
        outputTokenCount = int(.outputTokenCount)
        cacheReadInputTokenCount = int(.cacheReadInputTokenCount)
        cacheWriteInputTokenCount = int(.cacheWriteInputTokenCount)
    }
}
