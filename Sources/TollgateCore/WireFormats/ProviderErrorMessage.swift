import Foundation

/// The message of a provider's error answer, for the usage event's `error` field and
/// `/admin/stats/errors`. OpenAI, Anthropic and Gemini all put it at `error.message`
/// (`{"error":{"message":…}}`, `{"type":"error","error":{"type":…,"message":…}}`, Gemini's
/// streaming form inside a one-element array); a bare string `error` is taken as it is. AWS
/// (Bedrock) answers `{"message":…}` (or `Message`) at the top level.
package enum ProviderErrorMessage {
    /// Longest message kept, in characters: enough for any provider's explanation, and a bound on
    /// what an answer can make Tollgate store.
    package static let maxLength = 500

    /// The message in `body` (the first bytes of the answer are enough), nil if it has none.
    package static func from(_ body: some Collection<UInt8>) -> String? {
        var bytes = Array(body)
        // Gemini's streaming answers wrap the error object in an array.
        if let first = bytes.firstIndex(where: { !JSONScanner.isSpace($0) }), bytes[first] == UInt8(ascii: "["),
            let object = bytes[(first + 1)...].firstIndex(of: UInt8(ascii: "{"))
        {
            bytes = Array(bytes[object...])
        }
        return bytes.withUnsafeBufferPointer { p -> String? in
            guard let error = JSONScanner.topLevelValue(of: "error", in: p) else {
                let message = JSONScanner.topLevelValue(of: "message", in: p) ?? JSONScanner.topLevelValue(of: "Message", in: p)
                return message.flatMap { string(UnsafeBufferPointer(rebasing: p[$0])) }
            }
            let value = UnsafeBufferPointer(rebasing: p[error])
            if value.first == UInt8(ascii: "{"), let message = JSONScanner.topLevelValue(of: "message", in: value) {
                return string(UnsafeBufferPointer(rebasing: value[message]))
            }
            return string(value)
        }
    }

    /// A JSON string literal's text, cut to `maxLength`; nil for any other value.
    private static func string(_ literal: UnsafeBufferPointer<UInt8>) -> String? {
        guard literal.first == UInt8(ascii: "\""), let text = try? JSONDecoder().decode(String.self, from: Data(literal)) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        return trimmed.count > maxLength ? String(trimmed.prefix(maxLength)) + "…" : trimmed
    }
}
