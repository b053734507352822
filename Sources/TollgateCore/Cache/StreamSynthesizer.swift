import Foundation

/// Replays a cached JSON answer as the stream the provider would have sent (SPEC §8): OpenAI chat
/// and completion chunks ending in `[DONE]`, Anthropic's message_start … message_stop events,
/// Gemini's SSE (`alt=sse`) or JSON-array stream. The text goes out in one delta; SDKs assemble
/// the same message. Nil when the answer cannot be replayed (tool calls, several choices, non-text
/// blocks, the Responses API): the request then goes upstream.
package enum StreamSynthesizer {
    /// - Parameters:
    ///   - includeUsage: OpenAI: the client asked for `stream_options.include_usage`.
    ///   - sse: Gemini: the client asked for `alt=sse`.
    package static func stream(
        _ body: [UInt8], format: ProviderFormat, endpoint: Endpoint, includeUsage: Bool, sse: Bool
    ) -> [UInt8]? {
        if format == .gemini, endpoint == .generate {
            return sse ? Array("data: ".utf8) + body + Array("\r\n\r\n".utf8) : Array("[".utf8) + body + Array("]".utf8)
        }
        guard let answer = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        switch (format, endpoint) {
        case (.openai, .chat): return openAI(answer, chat: true, includeUsage: includeUsage)
        case (.openai, .completion): return openAI(answer, chat: false, includeUsage: includeUsage)
        case (.anthropic, .messages): return anthropic(answer)
        default: return nil
        }
    }

    private static func event(_ object: [String: Any], name: String? = nil) -> String? {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return nil }
        return (name.map { "event: \($0)\n" } ?? "") + "data: " + String(decoding: data, as: UTF8.self) + "\n\n"
    }

    private static func openAI(_ answer: [String: Any], chat: Bool, includeUsage: Bool) -> [UInt8]? {
        guard let choices = answer["choices"] as? [[String: Any]], choices.count == 1, let choice = choices.first else { return nil }
        let text: String
        if chat {
            guard let message = choice["message"] as? [String: Any], message["tool_calls"] == nil || message["tool_calls"] is NSNull,
                message["function_call"] == nil || message["function_call"] is NSNull
            else { return nil }
            text = message["content"] as? String ?? ""
        } else {
            text = choice["text"] as? String ?? ""
        }
        let base: [String: Any] = [
            "id": answer["id"] ?? "cached", "object": chat ? "chat.completion.chunk" : "text_completion",
            "created": answer["created"] ?? 0, "model": answer["model"] ?? "",
        ]
        func chunk(_ fields: [String: Any], finish: Any = NSNull()) -> String? {
            var c = base
            var piece: [String: Any] = ["index": 0, "finish_reason": finish, "logprobs": NSNull()]
            for (name, value) in fields { piece[name] = value }
            c["choices"] = [piece]
            if includeUsage { c["usage"] = NSNull() }
            return event(c)
        }
        var parts: [String?] = []
        if chat {
            parts.append(chunk(["delta": ["role": "assistant", "content": ""]]))
            parts.append(chunk(["delta": ["content": text]]))
            parts.append(chunk(["delta": [String: Any]()], finish: choice["finish_reason"] ?? "stop"))
        } else {
            parts.append(chunk(["text": text]))
            parts.append(chunk(["text": ""], finish: choice["finish_reason"] ?? "stop"))
        }
        if includeUsage, let usage = answer["usage"] {
            var last = base
            last["choices"] = [Any]()
            last["usage"] = usage
            parts.append(event(last))
        }
        parts.append("data: [DONE]\n\n")
        guard parts.allSatisfy({ $0 != nil }) else { return nil }
        return Array(parts.map { $0! }.joined().utf8)
    }

    private static func anthropic(_ answer: [String: Any]) -> [UInt8]? {
        guard let content = answer["content"] as? [[String: Any]],
            content.allSatisfy({ $0["type"] as? String == "text" })
        else { return nil }
        var start = answer
        start["content"] = [Any]()
        start["stop_reason"] = NSNull()
        start["stop_sequence"] = NSNull()
        var usage = answer["usage"] as? [String: Any] ?? [:]
        let outputTokens = usage["output_tokens"] ?? 0
        usage["output_tokens"] = 1
        start["usage"] = usage
        var parts: [String?] = [event(["type": "message_start", "message": start], name: "message_start")]
        for (index, block) in content.enumerated() {
            parts.append(event(["type": "content_block_start", "index": index, "content_block": ["type": "text", "text": ""]], name: "content_block_start"))
            parts.append(event(["type": "content_block_delta", "index": index, "delta": ["type": "text_delta", "text": block["text"] ?? ""]], name: "content_block_delta"))
            parts.append(event(["type": "content_block_stop", "index": index], name: "content_block_stop"))
        }
        parts.append(event([
            "type": "message_delta",
            "delta": ["stop_reason": answer["stop_reason"] ?? "end_turn", "stop_sequence": answer["stop_sequence"] ?? NSNull()],
            "usage": ["output_tokens": outputTokens],
        ], name: "message_delta"))
        parts.append(event(["type": "message_stop"], name: "message_stop"))
        guard parts.allSatisfy({ $0 != nil }) else { return nil }
        return Array(parts.map { $0! }.joined().utf8)
    }
}
