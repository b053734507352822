import Foundation

/// Google Vertex AI (SPEC §14): publisher models under
/// `/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`.
/// Google's models speak Gemini's wire format (`:generateContent`, `:streamGenerateContent`),
/// Anthropic's speak Anthropic's Messages API (`:rawPredict`, `:streamRawPredict`, the model in
/// the path, an `anthropic_version` in the body). The credential is an OAuth
/// access token as a bearer token (`VertexAccessTokens` gets it from a service account).
struct VertexWireFormat: WireFormat {
    private let gemini = GeminiWireFormat()

    func endpoint(forPath path: Substring) -> Endpoint {
        if self.path(path, endsWith: ":generateContent") || self.path(path, endsWith: ":streamGenerateContent") { return .generate }
        if self.path(path, endsWith: ":rawPredict") || self.path(path, endsWith: ":streamRawPredict") { return .messages }
        return .other
    }

    func bodyFormat(forPath path: Substring) -> ProviderFormat {
        self.path(path, endsWith: ":rawPredict") || self.path(path, endsWith: ":streamRawPredict") ? .anthropic : .gemini
    }

    /// Gemini's routes stream by path; Anthropic's by the body's `stream`.
    func streams(path: Substring) -> Bool? {
        bodyFormat(forPath: path) == .gemini ? gemini.streams(path: path) : nil
    }

    /// `M` of `…/models/M:method`, for both publishers.
    func model(inPath path: Substring) -> String? { RequestInspector.geminiModel(path: path) }

    /// Token counting (`…:countTokens`, `…:computeTokens`) costs nothing.
    func isFree(_ rest: ArraySlice<Substring>) -> Bool {
        guard let last = rest.last, let colon = last.lastIndex(of: ":") else { return false }
        return last[colon...] == ":countTokens" || last[colon...] == ":computeTokens"
    }

    /// The regional host a path's location names when the base URL is the built-in template
    /// (`https://{location}-aiplatform.googleapis.com`; `global` is `aiplatform.googleapis.com`).
    /// Nil for a path whose location is no plain name, so a path can never pick another host.
    func upstreamBase(_ base: String, path: Substring) -> String? {
        guard base.contains("{location}") else { return base }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard let index = segments.firstIndex(of: "locations"), index + 1 < segments.count else { return nil }
        let location = segments[index + 1]
        guard !location.isEmpty, location.utf8.count <= 63,
            location.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D })
        else { return nil }
        return location == "global"
            ? base.replacingOccurrences(of: "{location}-", with: "") : base.replacingOccurrences(of: "{location}", with: String(location))
    }

    func credentialHeader(apiKey: String) -> (name: String, value: String) { ("authorization", "Bearer " + apiKey) }

    func errorBody(_ error: RequestError, quotedMessage message: String, quotedCode code: String) -> String {
        gemini.errorBody(error, quotedMessage: message, quotedCode: code)
    }

    func usage(_ reported: ProviderUsage) -> Usage { gemini.usage(reported) }
}
