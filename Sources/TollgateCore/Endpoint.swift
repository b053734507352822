/// The kind of call a request makes, as recorded in usage events (SPEC §5 `endpoint`).
///
/// Every path that is not a metered endpoint is `.other`: forwarded unchanged and logged unmetered.
package enum Endpoint: String, Sendable, Codable, CaseIterable {
    case chat
    case completion
    case embedding
    case responses
    case messages
    case generate
    case other

    /// Whether tokens and cost are read from this endpoint's answers.
    package var isMetered: Bool { self != .other }

    /// Classifies a request path (the part after the provider segment, query excluded).
    package static func classify(format: ProviderFormat, path: Substring) -> Endpoint {
        // Compared as UTF-8: `Substring.hasSuffix` compares `Character`s, which showed up per request.
        func hasSuffix(_ suffix: StaticString) -> Bool {
            let bytes = UnsafeBufferPointer(start: suffix.utf8Start, count: suffix.utf8CodeUnitCount)
            return path.utf8.count >= bytes.count && path.utf8.suffix(bytes.count).elementsEqual(bytes)
        }
        switch format {
        case .openai:
            if hasSuffix("/chat/completions") { return .chat }
            if hasSuffix("/completions") { return .completion }
            if hasSuffix("/embeddings") { return .embedding }
            if hasSuffix("/responses") { return .responses }
            return .other
        case .anthropic:
            return hasSuffix("/v1/messages") ? .messages : .other
        case .gemini:
            if hasSuffix(":generateContent") || hasSuffix(":streamGenerateContent") { return .generate }
            return .other
        }
    }
}
