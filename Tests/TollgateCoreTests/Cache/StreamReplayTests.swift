import Foundation
import Testing
@testable import TollgateCore

@Suite("Streams assembled for the cache and replayed from it")
struct StreamReplayTests {
    func object(_ bytes: [UInt8]?) throws -> [String: Any] {
        let data = try #require(bytes)
        return try #require(try JSONSerialization.jsonObject(with: Data(data)) as? [String: Any])
    }

    let openAIStream = """
        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hello "},"finish_reason":null}]}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"there."},"finish_reason":"stop"}]}

        data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}

        data: [DONE]


        """

    @Test("OpenAI chat: deltas become one message with usage, and replay as chunks ending in [DONE]")
    func openAI() throws {
        let body = try #require(StreamAssembler.assemble(Array(openAIStream.utf8), format: .openai, endpoint: .chat))
        let answer = try object(body)
        let message = try #require(((answer["choices"] as? [[String: Any]])?.first?["message"]) as? [String: Any])
        #expect(message["content"] as? String == "Hello there.")
        #expect(((answer["usage"] as? [String: Any])?["completion_tokens"]) as? Int == 2)

        let replay = try #require(StreamSynthesizer.stream(body, format: .openai, endpoint: .chat, includeUsage: false, sse: true))
        let payloads = SSE.dataPayloads(replay)
        #expect(payloads.last == "[DONE]")
        var text = ""
        for payload in payloads.dropLast() {
            let chunk = try object(Array(payload.utf8))
            #expect(chunk["usage"] == nil)
            for choice in chunk["choices"] as? [[String: Any]] ?? [] {
                text += ((choice["delta"] as? [String: Any])?["content"] as? String) ?? ""
            }
        }
        #expect(text == "Hello there.")
        // With include_usage the replay ends with the usage chunk.
        let withUsage = try #require(StreamSynthesizer.stream(body, format: .openai, endpoint: .chat, includeUsage: true, sse: true))
        let last = try object(Array(SSE.dataPayloads(withUsage).dropLast().last!.utf8))
        #expect((last["choices"] as? [Any])?.isEmpty == true)
        #expect(((last["usage"] as? [String: Any])?["total_tokens"]) as? Int == 7)
    }

    @Test("OpenAI tool calls are not cached from a stream")
    func toolCalls() {
        let stream = #"data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"f"}}]}}]}"# + "\n\n"
        #expect(StreamAssembler.assemble(Array(stream.utf8), format: .openai, endpoint: .chat) == nil)
    }

    @Test("Anthropic: message_start + text deltas + message_delta become one message, and replay in order")
    func anthropic() throws {
        let stream = """
            event: message_start
            data: {"type":"message_start","message":{"id":"m1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"cache_read_input_tokens":3,"output_tokens":1}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi "}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"you"}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":4}}

            event: message_stop
            data: {"type":"message_stop"}


            """
        let body = try #require(StreamAssembler.assemble(Array(stream.utf8), format: .anthropic, endpoint: .messages))
        let message = try object(body)
        #expect(((message["content"] as? [[String: Any]])?.first?["text"]) as? String == "Hi you")
        #expect(message["stop_reason"] as? String == "end_turn")
        let usage = try #require(message["usage"] as? [String: Any])
        #expect(usage["output_tokens"] as? Int == 4)
        #expect(usage["cache_read_input_tokens"] as? Int == 3)

        let replay = try #require(StreamSynthesizer.stream(body, format: .anthropic, endpoint: .messages, includeUsage: false, sse: true))
        let types = try SSE.dataPayloads(replay).map { try object(Array($0.utf8))["type"] as? String }
        #expect(types == ["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"])
    }

    @Test("Gemini: chunks' text joins, the last usage stays; replay as SSE or a JSON array")
    func gemini() throws {
        let stream = """
            data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]}}],"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4}}\r
            \r
            data: {"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2,"totalTokenCount":6}}\r
            \r

            """
        let body = try #require(StreamAssembler.assemble(Array(stream.utf8), format: .gemini, endpoint: .generate))
        let answer = try object(body)
        let candidate = try #require((answer["candidates"] as? [[String: Any]])?.first)
        let parts = (candidate["content"] as? [String: Any])?["parts"] as? [[String: Any]]
        #expect(parts?.first?["text"] as? String == "Hello")
        #expect(candidate["finishReason"] as? String == "STOP")
        #expect(((answer["usageMetadata"] as? [String: Any])?["candidatesTokenCount"]) as? Int == 2)
        let array = try #require(StreamSynthesizer.stream(body, format: .gemini, endpoint: .generate, includeUsage: false, sse: false))
        #expect((try JSONSerialization.jsonObject(with: Data(array)) as? [Any])?.count == 1)
        let sse = try #require(StreamSynthesizer.stream(body, format: .gemini, endpoint: .generate, includeUsage: false, sse: true))
        #expect(SSE.dataPayloads(sse).count == 1)
        // A JSON-array stream (no alt=sse) assembles the same way.
        #expect(StreamAssembler.assemble(array, format: .gemini, endpoint: .generate) != nil)
    }
}
