import Foundation

/// Turns a provider's streamed answer into the non-streaming JSON body it stands for, so the cache
/// keeps one form and can replay it either way (SPEC §8).
///
/// Text answers are assembled; answers with tool calls, thinking blocks or several choices give
/// nil (not cached), because replaying them faithfully would need each provider's full event
/// grammar. Runs once per cache store, off the request's hot path.
package enum StreamAssembler {
    package static func assemble(_ bytes: [UInt8], format: ProviderFormat, endpoint: Endpoint) -> [UInt8]? {
        // Gemini without alt=sse streams one JSON array of responses.
        if format == .gemini, let first = bytes.first(where: { !JSONScanner.isSpace($0) }), first == UInt8(ascii: "[") {
            guard let list = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [[String: Any]] else { return nil }
            return gemini(list)
        }
        let events = SSE.dataPayloads(bytes).compactMap { payload -> [String: Any]? in
            guard payload != "[DONE]" else { return nil }
            return try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]
        }
        guard !events.isEmpty else { return nil }
        switch (format, endpoint) {
        case (.openai, .chat): return openAI(events, chat: true)
        case (.openai, .completion): return openAI(events, chat: false)
        case (.anthropic, .messages): return anthropic(events)
        case (.gemini, .generate): return gemini(events)
        default: return nil
        }
    }

    private static func encode(_ object: [String: Any]) -> [UInt8]? {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { Array($0) }
    }

    private static func openAI(_ events: [[String: Any]], chat: Bool) -> [UInt8]? {
        var text = ""
        var finish: Any = NSNull()
        var role = "assistant"
        var usage: Any?
        for event in events {
            if let u = event["usage"], !(u is NSNull) { usage = u }
            guard let choices = event["choices"] as? [[String: Any]] else { continue }
            for choice in choices {
                guard (choice["index"] as? Int ?? 0) == 0 else { return nil }
                if chat {
                    guard let delta = choice["delta"] as? [String: Any] else { continue }
                    if delta["tool_calls"] != nil || delta["function_call"] != nil { return nil }
                    if let r = delta["role"] as? String { role = r }
                    if let c = delta["content"] as? String { text += c }
                } else if let t = choice["text"] as? String {
                    text += t
                }
                if let f = choice["finish_reason"], !(f is NSNull) { finish = f }
            }
        }
        let first = events[0]
        var choice: [String: Any] = ["index": 0, "finish_reason": finish, "logprobs": NSNull()]
        if chat {
            choice["message"] = ["role": role, "content": text, "refusal": NSNull()] as [String: Any]
        } else {
            choice["text"] = text
        }
        var answer: [String: Any] = [
            "id": first["id"] ?? "cached", "object": chat ? "chat.completion" : "text_completion",
            "created": first["created"] ?? 0, "model": first["model"] ?? "", "choices": [choice],
        ]
        if let usage { answer["usage"] = usage }
        if let fingerprint = first["system_fingerprint"], !(fingerprint is NSNull) { answer["system_fingerprint"] = fingerprint }
        return encode(answer)
    }

    private static func anthropic(_ events: [[String: Any]]) -> [UInt8]? {
        guard var message = events.first(where: { $0["type"] as? String == "message_start" })?["message"] as? [String: Any] else { return nil }
        var blocks: [Int: String] = [:]
        var usage = message["usage"] as? [String: Any] ?? [:]
        for event in events {
            switch event["type"] as? String {
            case "content_block_start":
                guard let block = event["content_block"] as? [String: Any], block["type"] as? String == "text" else { return nil }
                blocks[event["index"] as? Int ?? 0] = block["text"] as? String ?? ""
            case "content_block_delta":
                guard let delta = event["delta"] as? [String: Any], delta["type"] as? String == "text_delta" else { return nil }
                blocks[event["index"] as? Int ?? 0, default: ""] += delta["text"] as? String ?? ""
            case "message_delta":
                if let delta = event["delta"] as? [String: Any] {
                    for (name, value) in delta { message[name] = value }
                }
                if let extra = event["usage"] as? [String: Any] {
                    for (name, value) in extra { usage[name] = value }
                }
            default: break
            }
        }
        message["content"] = blocks.keys.sorted().map { ["type": "text", "text": blocks[$0]!] as [String: Any] }
        message["usage"] = usage
        return encode(message)
    }

    private static func gemini(_ chunks: [[String: Any]]) -> [UInt8]? {
        var text = ""
        var last: [String: Any] = [:]
        var finish: Any?
        for chunk in chunks {
            last = chunk
            guard let candidates = chunk["candidates"] as? [[String: Any]] else { continue }
            guard candidates.count <= 1 else { return nil }
            guard let candidate = candidates.first else { continue }
            if let f = candidate["finishReason"] { finish = f }
            for part in (candidate["content"] as? [String: Any])?["parts"] as? [[String: Any]] ?? [] {
                guard let t = part["text"] as? String, part["thought"] == nil else { return nil }
                text += t
            }
        }
        var candidate: [String: Any] = ["content": ["role": "model", "parts": [["text": text]]] as [String: Any], "index": 0]
        if let finish { candidate["finishReason"] = finish }
        var answer = last
        answer["candidates"] = [candidate]
        return encode(answer)
    }
}

/// Server-sent events, read only as far as the cache needs: the `data:` payload of each event.
package enum SSE {
    /// Each event's data lines joined with `\n`; events end at a blank line (LF or CRLF).
    package static func dataPayloads(_ bytes: [UInt8]) -> [String] {
        // Split on bytes: in a Swift String "\r\n" is one Character and would not split on "\n".
        var payloads: [String] = []
        var data: [String] = []
        for rawLine in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let line = rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine
            if line.isEmpty {
                if !data.isEmpty { payloads.append(data.joined(separator: "\n")) }
                data = []
            } else if line.starts(with: Array("data:".utf8)) {
                var value = line.dropFirst(5)
                if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
                data.append(String(decoding: value, as: UTF8.self))
            }
        }
        if !data.isEmpty { payloads.append(data.joined(separator: "\n")) }
        return payloads
    }
}
