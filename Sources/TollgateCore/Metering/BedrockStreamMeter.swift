import Foundation

/// Meters a Bedrock stream (an AWS event stream) on its way to the client, which gets the bytes
/// untouched: the model, the usage and, for a stream cut short, the text seen so far.
///
/// - ConverseStream: `contentBlockDelta` events carry the text; the `metadata` event the usage.
/// - InvokeModelWithResponseStream: each `chunk` event's payload is `{"bytes":"<base64>"}`, the
///   model's own stream event (Anthropic's `message_start` … `message_stop` on Claude). The last
///   one carries `amazon-bedrock-invocationMetrics`, the final counts for every model.
///
/// A pure state machine like `StreamMeter`: fed chunks, no I/O. A frame that fails its CRC stops
/// the metering (the usage is then estimated); the bytes still reach the client, whose SDK checks
/// the same CRCs.
package struct BedrockStreamMeter: StreamUsage {
    package private(set) var model: String?
    /// Whether the final usage was seen (Converse's `metadata`, the invocation metrics).
    package private(set) var usageComplete = false
    package private(set) var textCharacters = 0
    /// An `exception` message's type (`throttlingException`, `modelStreamErrorException`…).
    package private(set) var exception: String?

    private var decoder = AWSEventStreamDecoder()
    private var reported: ProviderUsage?

    package init() {}

    /// Why the framing could not be followed, if it could not.
    package var failure: String? { decoder.failure }

    package mutating func observe(_ bytes: some Collection<UInt8>) {
        var messages: [AWSEventStreamDecoder.Message] = []
        decoder.feed(bytes) { messages.append($0) }
        for message in messages { handle(message) }
    }

    private mutating func handle(_ message: AWSEventStreamDecoder.Message) {
        switch message.headers[":message-type"] {
        case "event"?: break
        case "exception"?, "error"?:
            exception = message.headers[":exception-type"] ?? message.headers[":error-code"] ?? "error"
            return
        default: return
        }
        switch message.headers[":event-type"] {
        case "chunk"?:
            guard let encoded = Self.stringMember("bytes", of: message.payload),
                let decoded = Data(base64Encoded: encoded)
            else { return }
            invokeEvent(Array(decoded))
        case "metadata"?:
            guard let usage = Self.usage("usage", in: message.payload) else { return }
            reported = usage
            usageComplete = true
        case "contentBlockDelta"?:
            textCharacters += Self.scan(message.payload).textCharacters
        default:
            break
        }
    }

    /// One of the model's own stream events, from an InvokeModel stream's chunk.
    private mutating func invokeEvent(_ json: [UInt8]) {
        if let metrics = Self.usage("amazon-bedrock-invocationMetrics", in: json) {
            reported = metrics
            usageComplete = true
            return
        }
        let scan = Self.scan(json)
        textCharacters += scan.textCharacters
        if model == nil, let range = scan.model {
            model = json.withUnsafeBufferPointer { JSONString.decode(UnsafeBufferPointer(rebasing: $0[range])) }
        }
        // Anthropic's message_start (input) and message_delta (output so far), until the metrics.
        guard !usageComplete, let range = scan.usage,
            let usage = json.withUnsafeBufferPointer({ ProviderUsage(json: UnsafeBufferPointer(rebasing: $0[range])) })
        else { return }
        reported = reported.map { $0.merging(usage) } ?? usage
    }

    private static func scan(_ json: [UInt8]) -> JSONScan {
        json.withUnsafeBufferPointer { JSONScanner.scan($0, keys: .forFormat(.bedrock, endpoint: .chat)) }
    }

    /// The object under the top-level key `key`, read as usage.
    private static func usage(_ key: String, in json: [UInt8]) -> ProviderUsage? {
        json.withUnsafeBufferPointer { p in
            JSONScanner.topLevelValue(of: key, in: p).flatMap { ProviderUsage(json: UnsafeBufferPointer(rebasing: p[$0])) }
        }
    }

    /// The top-level string member `key` (no escapes expected: base64).
    private static func stringMember(_ key: String, of json: [UInt8]) -> String? {
        json.withUnsafeBufferPointer { p in
            guard let range = JSONScanner.topLevelValue(of: key, in: p), range.count >= 2, p[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: p[(range.lowerBound + 1)..<(range.upperBound - 1)]), as: UTF8.self)
        }
    }

    /// What the stream reported, normalized.
    package var usage: Usage? { reported?.normalized(.bedrock) }

}
