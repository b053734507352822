import Foundation
import Testing
@testable import TollgateCore

@Suite("StreamMeter: usage from SSE streams, byte-exact forwarding, usage-chunk stripping")
struct StreamMeteringTests {
    private static let splits = [1, 2, 3, 7, 64, 100_000]

    /// The fixture without its one event that contains `marker`.
    private func removingEvent(containing marker: String, from text: String) -> String {
        text.components(separatedBy: "\n\n").filter { !$0.contains(marker) }.joined(separator: "\n\n")
    }

    @Test("OpenAI chat, not stripping: every byte forwarded unchanged; final usage read", arguments: splits)
    func openAIForwarding(size: Int) throws {
        let bytes = try MeteringFixtures.bytes("openai_chat_stream_include_usage.sse")
        let (out, meter) = MeteringFixtures.meter(bytes, format: .openai, endpoint: .chat, strip: false, size: size)
        #expect(out == bytes)
        #expect(meter.model == "gpt-4o-mini-2024-07-18")
        #expect(meter.usageComplete)
        let result = meter.metered(estimatedInputTokens: 5)
        #expect(result == MeteredUsage(
            model: "gpt-4o-mini-2024-07-18", usage: Usage(inputTokens: 1200, outputTokens: 9, cachedInputTokens: 1024),
            source: .provider))
    }

    @Test("OpenAI chat, stripping: the usage-only chunk is consumed, all other bytes identical and in order", arguments: splits)
    func openAIStripping(size: Int) throws {
        let text = try MeteringFixtures.text("openai_chat_stream_include_usage.sse")
        let (out, meter) = MeteringFixtures.meter(Array(text.utf8), format: .openai, endpoint: .chat, strip: true, size: size)
        let expected = removingEvent(containing: #""choices":[]"#, from: text)
        #expect(String(decoding: out, as: UTF8.self) == expected)
        #expect(out.count == text.utf8.count - (text.components(separatedBy: "\n\n")[4].utf8.count + 2))
        #expect(meter.usage == Usage(inputTokens: 1200, outputTokens: 9, cachedInputTokens: 1024))
    }

    @Test("Azure: the leading content-filter event (no choices, model \"\") is forwarded, its empty model ignored", arguments: splits)
    func azureFilterEvent(size: Int) throws {
        let filter = #"data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}"# + "\n\n"
        let text = filter + (try MeteringFixtures.text("openai_chat_stream_include_usage.sse"))
        let (out, meter) = MeteringFixtures.meter(Array(text.utf8), format: .azure, endpoint: .chat, strip: true, size: size)
        #expect(String(decoding: out, as: UTF8.self) == filter + removingEvent(containing: #""choices":[],"usage""#, from: String(text.dropFirst(filter.count))))
        #expect(meter.model == "gpt-4o-mini-2024-07-18")
        #expect(meter.usage == Usage(inputTokens: 1200, outputTokens: 9, cachedInputTokens: 1024))
    }

    @Test("stripping works the same with CRLF and lone-CR line endings, split anywhere", arguments: [1, 2, 5, 100_000])
    func lineEndings(size: Int) throws {
        let text = try MeteringFixtures.text("openai_chat_stream_include_usage.sse")
        for ending in ["\r\n", "\r"] {
            let converted = text.replacingOccurrences(of: "\n", with: ending)
            let (out, meter) = MeteringFixtures.meter(Array(converted.utf8), format: .openai, endpoint: .chat, strip: true, size: size)
            let expected = removingEvent(containing: #""choices":[]"#, from: text).replacingOccurrences(of: "\n", with: ending)
            #expect(String(decoding: out, as: UTF8.self) == expected, "line ending \(ending.debugDescription)")
            #expect(meter.usage?.inputTokens == 1200)
        }
    }

    @Test("stripping forwards each event as soon as its blank line arrives")
    func stripLatency() {
        var meter = StreamMeter(format: .openai, endpoint: .chat, stripUsageChunk: true)
        let first = #"data: {"choices":[{"delta":{"content":"Hi"}}],"usage":null}"#
        #expect(meter.feed(Array(first.utf8)).isEmpty)
        #expect(meter.feed(Array("\n".utf8)).isEmpty)
        #expect(String(decoding: meter.feed(Array("\n: keep-alive\n".utf8)), as: UTF8.self) == first + "\n\n")
        #expect(String(decoding: meter.feed(Array("\n".utf8)), as: UTF8.self) == ": keep-alive\n\n")
        #expect(meter.finish().isEmpty)
    }

    @Test("a usage chunk that still carries choices is forwarded (only the usage-only chunk goes)")
    func usageWithChoices() {
        let text = "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n"
        let (out, meter) = MeteringFixtures.meter(Array(text.utf8), format: .openai, endpoint: .chat, strip: true, size: 4)
        #expect(String(decoding: out, as: UTF8.self) == text)
        #expect(meter.usage == Usage(inputTokens: 3, outputTokens: 2))
    }

    @Test("observe(_:) reads the same as feed(_:) without copying the bytes back")
    func observe() throws {
        let bytes = try MeteringFixtures.bytes("openai_chat_stream_include_usage.sse")
        var meter = StreamMeter(format: .openai, endpoint: .chat, stripUsageChunk: false)
        for chunk in stride(from: 0, to: bytes.count, by: 5) { meter.observe(bytes[chunk..<min(chunk + 5, bytes.count)]) }
        #expect(meter.finish().isEmpty)
        #expect(meter.usage?.inputTokens == 1200 && meter.model == "gpt-4o-mini-2024-07-18")
    }

    @Test("Responses API: usage from response.completed, model from the response object", arguments: [1, 9, 100_000])
    func responses(size: Int) throws {
        let bytes = try MeteringFixtures.bytes("openai_responses_stream.sse")
        let (out, meter) = MeteringFixtures.meter(bytes, format: .openai, endpoint: .responses, strip: false, size: size)
        #expect(out == bytes)
        #expect(meter.model == "gpt-5-2025-08-07")
        #expect(meter.result(estimatedInputTokens: 0) == (
            Usage(inputTokens: 320, outputTokens: 530, cachedInputTokens: 256, reasoningTokens: 512), .provider))
        // Only the delta events count toward the estimate: "Bonjour" + " le monde" = 16 characters.
        #expect(meter.textCharacters == 16)
    }

    @Test("Anthropic: message_start input and cache counts, message_delta's cumulative output", arguments: [1, 4, 100_000])
    func anthropic(size: Int) throws {
        let bytes = try MeteringFixtures.bytes("anthropic_messages_stream.sse")
        let (out, meter) = MeteringFixtures.meter(bytes, format: .anthropic, endpoint: .messages, strip: false, size: size)
        #expect(out == bytes)
        #expect(meter.model == "claude-sonnet-4-5-20250929")
        let result = meter.metered(estimatedInputTokens: 1)
        #expect(result.source == .provider)
        #expect(result.usage == Usage(inputTokens: 2073, outputTokens: 87, cacheWriteTokens: 2048))
        // thinking "Let me count: 1, 2, 3." (22) + text "One, two, three." (16); signatures do not count.
        #expect(meter.textCharacters == 38)
        // Priced: 25 × 3 + 2048 × 3.75 + 87 × 15 = 9060 µ$
        let model = try #require(result.model)
        let price = try #require(MeteringFixtures.table.lookup(model)).price
        #expect(CostCalculator.cost(result.usage, price: price).costNanos == 9_060_000)
    }

    @Test("Anthropic message_delta that restates input fields replaces message_start's")
    func anthropicRestated() {
        let text = """
            event: message_start
            data: {"type":"message_start","message":{"model":"claude-haiku-4-5","usage":{"input_tokens":10,"cache_read_input_tokens":0,"output_tokens":1}}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"input_tokens":10,"cache_read_input_tokens":500,"output_tokens":40}}


            """
        let (_, meter) = MeteringFixtures.meter(Array(text.utf8), format: .anthropic, endpoint: .messages, strip: false, size: 3)
        #expect(meter.result(estimatedInputTokens: 0) == (Usage(inputTokens: 510, outputTokens: 40, cachedInputTokens: 500), .provider))
    }

    @Test("Gemini: CRLF events, running usageMetadata, the final one (with finishReason) wins", arguments: [1, 2, 100_000])
    func gemini(size: Int) throws {
        let bytes = try MeteringFixtures.bytes("gemini_stream.sse")
        let (out, meter) = MeteringFixtures.meter(bytes, format: .gemini, endpoint: .generate, strip: false, size: size)
        #expect(out == bytes)
        #expect(meter.model == "gemini-2.5-pro")
        #expect(meter.result(estimatedInputTokens: 0) == (Usage(inputTokens: 9, outputTokens: 811, reasoningTokens: 800), .provider))
    }

    @Test("Gemini cut before the finish: running counts kept, output raised to the text estimate, flagged estimated")
    func geminiCut() throws {
        let text = try MeteringFixtures.text("gemini_stream.sse")
        let firstTwo = text.components(separatedBy: "\r\n\r\n").prefix(2).joined(separator: "\r\n\r\n") + "\r\n\r\n"
        let (_, meter) = MeteringFixtures.meter(Array(firstTwo.utf8), format: .gemini, endpoint: .generate, strip: false, size: 10)
        #expect(!meter.usageComplete)
        // "The sky" (7) + " is blue because of Rayleigh scattering." (40) = 47 characters → 12 tokens > 4 reported.
        #expect(meter.textCharacters == 47)
        #expect(meter.result(estimatedInputTokens: 100) == (Usage(inputTokens: 9, outputTokens: 12), .estimated))
    }

    @Test("OpenAI stream cut short: input from the request estimate, output ≈ characters / 4")
    func openAICut() throws {
        let text = try MeteringFixtures.text("openai_chat_stream_include_usage.sse")
        // Up to and including the third event, then half of the fourth.
        let events = text.components(separatedBy: "\n\n")
        let cut = events.prefix(3).joined(separator: "\n\n") + "\n\n" + events[3].prefix(40)
        let (out, meter) = MeteringFixtures.meter(Array(cut.utf8), format: .openai, endpoint: .chat, strip: true, size: 6)
        // Held bytes of the unfinished event are flushed by finish(), so nothing the upstream sent is lost.
        #expect(String(decoding: out, as: UTF8.self) == cut)
        // "" + "Hello" (5) + " there, \"usage\": fine — ünïcode!" (32 characters: each escape and each
        // multi-byte character counts once) = 37 → 10 tokens.
        #expect(meter.textCharacters == 37)
        #expect(meter.result(estimatedInputTokens: 250) == (Usage(inputTokens: 250, outputTokens: 10), .estimated))
        #expect(meter.metered(estimatedInputTokens: 250).model == "gpt-4o-mini-2024-07-18")
    }

    @Test("Anthropic cut after some deltas: provider input kept, output estimated")
    func anthropicCut() throws {
        let text = try MeteringFixtures.text("anthropic_messages_stream.sse")
        let cut = text.components(separatedBy: "event: message_delta")[0]
        let (_, meter) = MeteringFixtures.meter(Array(cut.utf8), format: .anthropic, endpoint: .messages, strip: false, size: 11)
        // 38 characters → 10 tokens.
        #expect(meter.result(estimatedInputTokens: 7) == (Usage(inputTokens: 2073, outputTokens: 10, cacheWriteTokens: 2048), .estimated))
    }

    @Test("nothing seen at all: the request's estimate and zero output, flagged estimated")
    func nothing() {
        let meter = StreamMeter(format: .openai, endpoint: .chat, stripUsageChunk: false)
        #expect(meter.result(estimatedInputTokens: 42) == (Usage(inputTokens: 42), .estimated))
        #expect(meter.metered(estimatedInputTokens: 42).model == nil)
    }

    @Test("a last event without its closing blank line is still read at finish")
    func unterminated() {
        let text = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":1}}"
        var meter = StreamMeter(format: .openai, endpoint: .chat, stripUsageChunk: false)
        #expect(meter.feed(Array(text.utf8)) == Array(text.utf8))
        #expect(meter.usage == nil)
        #expect(meter.finish().isEmpty)
        #expect(meter.usage == Usage(inputTokens: 4, outputTokens: 1))
    }

    @Test("multi-line data fields are joined with newlines before parsing")
    func multiLineData() {
        let text = "data: {\"choices\":[],\ndata: \"usage\":{\"prompt_tokens\":4,\ndata: \"completion_tokens\":2}}\n\n"
        let (_, meter) = MeteringFixtures.meter(Array(text.utf8), format: .openai, endpoint: .chat, strip: false, size: 1)
        #expect(meter.usage == Usage(inputTokens: 4, outputTokens: 2))
    }

    @Test("many events fed at once, and a long stream stays linear")
    func manyEvents() {
        var text = ""
        for i in 0..<2000 {
            text += "data: {\"model\":\"gpt-4o\",\"choices\":[{\"delta\":{\"content\":\"abcd\(i % 10)\"}}],\"usage\":null}\n\n"
        }
        text += "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2000}}\n\ndata: [DONE]\n\n"
        let bytes = Array(text.utf8)
        let (out, meter) = MeteringFixtures.meter(bytes, format: .openai, endpoint: .chat, strip: true, size: 16_384)
        #expect(out.count < bytes.count)
        #expect(meter.textCharacters == 10_000)
        #expect(meter.usage?.outputTokens == 2000)
    }
}
