import Foundation

/// Observes a streamed (SSE) answer on its way to the client: finds the model and usage, counts
/// content events for an estimate if the stream is cut short, and — when Tollgate injected
/// `stream_options.include_usage` — removes the usage-only chunk the client did not ask for.
///
/// A pure state machine in SwiftNIO's style: fed chunks, returns the bytes to forward; no I/O.
/// Without stripping, every byte is forwarded at once and a copy is parsed; with stripping, each
/// event is forwarded as soon as its blank line arrives.
package struct StreamMeter: Sendable {
    package let format: ProviderFormat
    package let endpoint: Endpoint
    package let stripUsageChunk: Bool

    package private(set) var model: String?
    package private(set) var usage: Usage?
    /// Events that carried content (≈ one output token each for OpenAI and Anthropic streams).
    package private(set) var contentEvents = 0

    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var eventRaw: [UInt8] = []
    private var anthropicUsage: Usage?

    package init(format: ProviderFormat, endpoint: Endpoint, stripUsageChunk: Bool) {
        self.format = format
        self.endpoint = endpoint
        self.stripUsageChunk = stripUsageChunk
    }

    /// Feeds the next chunk; returns the bytes to send to the client now.
    package mutating func feed(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        if !stripUsageChunk { out.append(contentsOf: bytes) }
        for byte in bytes {
            if stripUsageChunk { eventRaw.append(byte) }
            if byte == UInt8(ascii: "\n") {
                processLine(&out)
                line.removeAll(keepingCapacity: true)
            } else {
                line.append(byte)
            }
        }
        return out
    }

    /// Ends the stream: returns anything still held back.
    package mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        if !line.isEmpty { processLine(&out); line.removeAll() }
        if !data.isEmpty { dispatch(&out) }
        if stripUsageChunk { out.append(contentsOf: eventRaw); eventRaw.removeAll() }
        return out
    }

    /// Usage and where it came from; if the provider never reported it, output is estimated from the content events seen.
    package func result(estimatedInputTokens: Int) -> (usage: Usage, source: UsageSource) {
        if let usage { return (usage, .provider) }
        if var partial = anthropicUsage {
            // message_start told the input; the output count never came.
            partial.outputTokens = max(partial.outputTokens, contentEvents)
            return (partial, .estimated)
        }
        return (Usage(inputTokens: estimatedInputTokens, outputTokens: contentEvents), .estimated)
    }

    private mutating func processLine(_ out: inout [UInt8]) {
        var content = line[...]
        if content.last == UInt8(ascii: "\r") { content = content.dropLast() }
        if content.isEmpty {
            dispatch(&out)
            return
        }
        if content.starts(with: Self.dataPrefix) {
            var payload = content.dropFirst(5)
            if payload.first == UInt8(ascii: " ") { payload = payload.dropFirst() }
            if !data.isEmpty { data.append(UInt8(ascii: "\n")) }
            data.append(contentsOf: payload)
        }
    }

    private static let dataPrefix = Array("data:".utf8)
    private static let usageKey = Array("sage".utf8)  // matches "usage" and "usageMetadata"

    /// One complete event: inspect it, then forward it unless it is the injected usage chunk.
    private mutating func dispatch(_ out: inout [UInt8]) {
        defer {
            data.removeAll(keepingCapacity: true)
            if stripUsageChunk { eventRaw.removeAll(keepingCapacity: true) }
        }
        var forward = true
        if !data.isEmpty, data != Array("[DONE]".utf8) {
            contentEvents += 1
            // Only events that can hold usage are decoded.
            if Self.contains(data, Self.usageKey), let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] {
                forward = inspect(object)
            }
        }
        if stripUsageChunk && forward { out.append(contentsOf: eventRaw) }
    }

    /// Reads usage from one event's JSON; returns false for the injected usage-only chunk.
    private mutating func inspect(_ object: [String: Any]) -> Bool {
        switch format {
        case .openai:
            if endpoint == .responses {
                guard object["type"] as? String == "response.completed" else { return true }
                let parsed = UsageParser.parse(object: object, format: .openai, endpoint: .responses)
                model = parsed.model ?? model
                usage = parsed.usage ?? usage
                return true
            }
            if let m = object["model"] as? String { model = m }
            guard let u = object["usage"] as? [String: Any] else { return true }
            usage = UsageParser.openAI(u)
            let usageOnly = (object["choices"] as? [Any])?.isEmpty ?? false
            if usageOnly { contentEvents -= 1 }
            return !(stripUsageChunk && usageOnly)
        case .anthropic:
            if let message = object["message"] as? [String: Any] {
                model = message["model"] as? String ?? model
                if let u = message["usage"] as? [String: Any] { anthropicUsage = UsageParser.anthropic(u) }
            } else if object["type"] as? String == "message_delta", let u = object["usage"] as? [String: Any] {
                // message_delta's output_tokens is cumulative; newer APIs may restate input fields too.
                var merged = anthropicUsage ?? Usage()
                let delta = UsageParser.anthropic(u)
                merged.outputTokens = delta.outputTokens
                if u["input_tokens"] != nil { merged.inputTokens = delta.inputTokens }
                if u["cache_read_input_tokens"] != nil { merged.cachedInputTokens = delta.cachedInputTokens }
                if u["cache_creation_input_tokens"] != nil { merged.cacheWriteTokens = delta.cacheWriteTokens }
                anthropicUsage = merged
                usage = merged
            }
            return true
        case .gemini:
            let parsed = UsageParser.parse(object: object, format: .gemini, endpoint: endpoint)
            model = parsed.model ?? model
            usage = parsed.usage ?? usage
            return true
        }
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first && haystack[i..<i + needle.count].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
