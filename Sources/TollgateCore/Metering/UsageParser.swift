import Foundation

/// The model and token counts of one answer, and where the counts came from.
package struct MeteredUsage: Sendable, Equatable {
    /// The model as the provider reported it, if it did.
    package var model: String?
    package var usage: Usage
    package var source: UsageSource

    package init(model: String?, usage: Usage, source: UsageSource) {
        self.model = model
        self.usage = usage
        self.source = source
    }
}

/// Reads the provider's model and usage from a whole (non-streamed) answer (SPEC §5).
///
/// One `JSONScanner` pass finds the `model` and the usage object without materializing the
/// answer's content; only the small usage object is decoded (`Codable`). That is several times
/// cheaper than parsing the whole body for large answers (embeddings, long completions).
package enum UsageParser {
    /// The reported model and normalized usage, if any (nil usage: none in the body, e.g. not JSON).
    ///
    /// Accepts OpenAI chat completions, completions, embeddings and responses; Anthropic
    /// messages; Gemini generateContent, and a Gemini stream answered as one JSON array
    /// (`streamGenerateContent` without `alt=sse`), where the last `usageMetadata` wins.
    package static func parse(body: some Collection<UInt8>, format: ProviderFormat, endpoint: Endpoint) -> (
        model: String?, usage: Usage?
    ) {
        let keys = JSONScanKeys.forFormat(format, endpoint: endpoint)
        let read = { (p: UnsafeBufferPointer<UInt8>) -> (model: String?, usage: Usage?) in
            let scan = JSONScanner.scan(p, keys: keys)
            let model = scan.model.flatMap { JSONString.decode(UnsafeBufferPointer(rebasing: p[$0])) }
            let usage = scan.usage.flatMap { ProviderUsage(json: UnsafeBufferPointer(rebasing: p[$0])) }
            return (model, usage?.normalized(format))
        }
        if let result = body.withContiguousStorageIfAvailable(read) { return result }
        return Array(body).withUnsafeBufferPointer(read)
    }

    /// `parse(body:)` with the request's input estimate standing in when the answer carried no
    /// usage: the figures to record, flagged `.estimated` in that case.
    package static func metered(
        body: some Collection<UInt8>, format: ProviderFormat, endpoint: Endpoint, estimatedInputTokens: Int
    ) -> MeteredUsage {
        let parsed = parse(body: body, format: format, endpoint: endpoint)
        guard let usage = parsed.usage else {
            return MeteredUsage(model: parsed.model, usage: Usage(inputTokens: estimatedInputTokens), source: .estimated)
        }
        return MeteredUsage(model: parsed.model, usage: usage, source: .provider)
    }
}

/// Turns the inside of a JSON string (between its quotes) into a `String`.
enum JSONString {
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard bytes.contains(UInt8(ascii: "\\")) else { return String(decoding: bytes, as: UTF8.self) }
        // Rare (a model name with an escape): let Foundation undo the escapes.
        var quoted: [UInt8] = [UInt8(ascii: "\"")]
        quoted.append(contentsOf: bytes)
        quoted.append(UInt8(ascii: "\""))
        return try? JSONDecoder().decode(String.self, from: Data(quoted))
    }
}
