import Testing
@testable import TollgateCore

private let openAIStream = """
    data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":"Hi"}}]}

    data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

    data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":7,"total_tokens":27,"prompt_tokens_details":{"cached_tokens":10},"completion_tokens_details":{"reasoning_tokens":3}}}

    data: [DONE]


    """

private let anthropicStream = """
    event: message_start
    data: {"type":"message_start","message":{"id":"m","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":10,"cache_read_input_tokens":100,"cache_creation_input_tokens":50,"output_tokens":1}}}

    event: content_block_delta
    data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}

    event: message_delta
    data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}

    event: message_stop
    data: {"type":"message_stop"}


    """

/// Feeds `text` in pieces of `size` bytes and returns what was forwarded plus the meter.
private func run(_ text: String, format: ProviderFormat, endpoint: Endpoint, strip: Bool, size: Int) -> (String, StreamMeter) {
    var meter = StreamMeter(format: format, endpoint: endpoint, stripUsageChunk: strip)
    let bytes = Array(text.utf8)
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
        out += meter.feed(bytes[i..<min(i + size, bytes.count)])
        i += size
    }
    out += meter.finish()
    return (String(decoding: out, as: UTF8.self), meter)
}

@Suite("Reading usage from streams")
struct StreamMeterTests {
    @Test("OpenAI: usage from the final chunk, every byte forwarded, across one-byte splits", arguments: [1, 7, 4096])
    func openAIUsage(size: Int) {
        let (out, meter) = run(openAIStream, format: .openai, endpoint: .chat, strip: false, size: size)
        #expect(out == openAIStream)
        #expect(meter.model == "gpt-4o-2024-08-06")
        #expect(meter.usage == Usage(inputTokens: 20, outputTokens: 7, cachedInputTokens: 10, reasoningTokens: 3))
    }

    @Test("OpenAI: the injected usage chunk is removed and every other byte is unchanged", arguments: [1, 13, 4096])
    func stripping(size: Int) {
        let (out, meter) = run(openAIStream, format: .openai, endpoint: .chat, strip: true, size: size)
        let usageEvent = openAIStream.components(separatedBy: "\n\n")[2] + "\n\n"
        #expect(out == openAIStream.replacingOccurrences(of: usageEvent, with: ""))
        #expect(!out.contains("usage"))
        #expect(meter.usage?.inputTokens == 20)
    }

    @Test("Anthropic: message_start input and cache counts, message_delta's cumulative output")
    func anthropic() {
        let (out, meter) = run(anthropicStream, format: .anthropic, endpoint: .messages, strip: false, size: 5)
        #expect(out == anthropicStream)
        #expect(meter.model == "claude-sonnet-4-5-20250929")
        #expect(meter.usage == Usage(inputTokens: 160, outputTokens: 42, cachedInputTokens: 100, cacheWriteTokens: 50))
    }

    @Test("Gemini: the last usageMetadata wins, CRLF event separators")
    func gemini() {
        let stream = "data: {\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":1}}\r\n\r\n"
            + "data: {\"candidates\":[],\"modelVersion\":\"gemini-2.5-flash\",\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":9,\"thoughtsTokenCount\":4}}\r\n\r\n"
        let (_, meter) = run(stream, format: .gemini, endpoint: .generate, strip: false, size: 3)
        #expect(meter.usage == Usage(inputTokens: 5, outputTokens: 13, reasoningTokens: 4))
        #expect(meter.model == "gemini-2.5-flash")
    }

    @Test("a stream cut short is estimated from what was seen")
    func cutShort() {
        let cut = openAIStream.components(separatedBy: "\n\n")[0] + "\n\ndata: {\"id\":"
        var meter = StreamMeter(format: .openai, endpoint: .chat, stripUsageChunk: false)
        _ = meter.feed(Array(cut.utf8))
        let (usage, source) = meter.result(estimatedInputTokens: 11)
        #expect(source == .estimated)
        #expect(usage.inputTokens == 11)
        #expect(usage.outputTokens == 1)
        var anthropic = StreamMeter(format: .anthropic, endpoint: .messages, stripUsageChunk: false)
        _ = anthropic.feed(Array(anthropicStream.components(separatedBy: "event: message_delta")[0].utf8))
        let (partial, partialSource) = anthropic.result(estimatedInputTokens: 0)
        #expect(partialSource == .estimated)
        #expect(partial.inputTokens == 160)
    }

    @Test("request inspection: model, stream, caps, and include_usage added only when missing")
    func inspection() throws {
        let body = Array(#"{"model":"gpt-4o","stream":true,"max_tokens":50,"user":"u1"}"#.utf8)
        let i = try RequestInspector.inspect(body, format: .openai, endpoint: .chat, path: "/v1/chat/completions")
        #expect(i.model == "gpt-4o" && i.stream && i.maxOutputTokens == 50 && i.user == "u1" && i.stripUsageChunk)
        #expect(String(decoding: try #require(i.upstreamBody), as: UTF8.self)
            == #"{"model":"gpt-4o","stream":true,"max_tokens":50,"user":"u1","stream_options":{"include_usage":true}}"#)
        let asked = Array(#"{"model":"m","stream":true,"stream_options":{"include_usage":true}}"#.utf8)
        #expect(try RequestInspector.inspect(asked, format: .openai, endpoint: .chat, path: "").upstreamBody == nil)
        let other = Array(#"{"model":"m","stream":true,"stream_options":{"x":1}}"#.utf8)
        let rewritten = try #require(try RequestInspector.inspect(other, format: .openai, endpoint: .chat, path: "").upstreamBody)
        #expect(String(decoding: rewritten, as: UTF8.self).contains(#""include_usage":true"#))
        #expect(throws: RequestError.self) { try RequestInspector.inspect(Array("{bad".utf8), format: .openai, endpoint: .chat, path: "") }
        let gemini = try RequestInspector.inspect(Array(#"{"contents":[]}"#.utf8), format: .gemini, endpoint: .generate,
                                                  path: "/v1beta/models/gemini-2.5-pro:streamGenerateContent")
        #expect(gemini.model == "gemini-2.5-pro" && gemini.stream && !gemini.stripUsageChunk)
    }
}
