/// The wire format a provider speaks (`providers.<name>.format`); its `WireFormat` type knows
/// the rest.
package enum ProviderFormat: String, Sendable, Codable, CaseIterable {
    case openai
    case anthropic
    case gemini
    /// Azure OpenAI (SPEC §14): OpenAI's bodies and answers under Azure's routes and `api-key` header.
    case azure
    /// Google Vertex AI (SPEC §14): Gemini's bodies on `…:generateContent`, Anthropic's on
    /// `…:rawPredict`, with an OAuth access token from a service account.
    case vertex
    /// AWS Bedrock (SPEC §14): Converse and InvokeModel, event-stream answers, Signature V4.
    case bedrock

    /// What Tollgate knows of this format: routes, credential header, error shape, usage reader.
    package var wire: any WireFormat {
        switch self {
        case .openai: OpenAIWireFormat()
        case .anthropic: AnthropicWireFormat()
        case .gemini: GeminiWireFormat()
        case .azure: AzureWireFormat()
        case .vertex: VertexWireFormat()
        case .bedrock: BedrockWireFormat()
        }
    }
}

/// Everything Tollgate knows about one provider wire format, in one place, so adding a format is
/// one new type instead of a `switch` case in every file that meets a request.
package protocol WireFormat: Sendable {
    /// What a path (after the provider segment, query excluded) calls: a metered endpoint or `.other`.
    func endpoint(forPath path: Substring) -> Endpoint
    /// Whether an unmetered path costs nothing (model lists, token counting), so a Tollgate key
    /// may reach it without `keys.unmetered_paths` (`KeyPathPolicy`).
    func isFree(_ rest: ArraySlice<Substring>) -> Bool
    /// The format of the bodies, answers and streams on `path`: `.openai`, `.anthropic`,
    /// `.gemini` or `.bedrock`, whose readers, error shape, cache assembly and stream synthesis apply
    /// (`ProviderRouter.Route.format`).
    func bodyFormat(forPath path: Substring) -> ProviderFormat
    /// The model a path names (Gemini's `models/M:generateContent`, an Azure deployment), which
    /// a body's `model` overrides.
    func model(inPath path: Substring) -> String?
    /// Whether `path` asks for a streamed answer, for formats whose path says so (Gemini's
    /// `:streamGenerateContent`, Bedrock's `converse-stream`); nil: the body's `stream` decides.
    func streams(path: Substring) -> Bool?
    /// The base URL to call for `path` (default: `base`).
    func upstreamBase(_ base: String, path: Substring) -> String?
    /// The header that carries the provider's API key.
    func credentialHeader(apiKey: String) -> (name: String, value: String)
    /// The path segments after the API version (`["models"]` of `/v1/models`), for `isFree`;
    /// nil when the path has no version segment this format knows.
    func versionedRest(_ segments: ArraySlice<Substring>) -> ArraySlice<Substring>?
    /// `error` in this format's own error shape (SPEC §4), so each SDK raises its usual typed error;
    /// the message and code come already quoted as JSON strings.
    func errorBody(_ error: RequestError, quotedMessage message: String, quotedCode code: String) -> String
    /// Headers this format's errors carry besides the body (Bedrock's `x-amzn-errortype`).
    func errorHeaders(_ error: RequestError) -> [(name: String, value: String)]
    /// This format's usage object read into SPEC §5's normalized tokens: input is every input
    /// token processed (cache reads and writes included), output every output token billed
    /// (reasoning included). The counts are the provider's, unchecked: sums saturate rather than
    /// trap, and the proxy bounds the result (`Usage.bounded()`) before pricing it.
    func usage(_ reported: ProviderUsage) -> Usage
    /// Usage an answer's headers report, for answers whose body has none Tollgate reads
    /// (Bedrock's InvokeModel on models other than Claude).
    func headerUsage(_ headers: [(name: String, value: String)]) -> Usage?
}

extension WireFormat {
    func model(inPath path: Substring) -> String? { nil }

    func errorHeaders(_ error: RequestError) -> [(name: String, value: String)] { [] }

    func streams(path: Substring) -> Bool? { nil }

    func headerUsage(_ headers: [(name: String, value: String)]) -> Usage? { nil }

    /// The base URL to call for `path`: the provider's, unless its format derives the host from
    /// the path (Vertex's regions); nil when the path cannot name one.
    func upstreamBase(_ base: String, path: Substring) -> String? { base }

    /// `/v1…/rest`: the first segment is the version (`v1`, `v1beta`).
    func versionedRest(_ segments: ArraySlice<Substring>) -> ArraySlice<Substring>? {
        guard let version = segments.first, version.hasPrefix("v1") else { return nil }
        return segments.dropFirst()
    }

    /// Compared as UTF-8: `Substring.hasSuffix` compares `Character`s, which showed up per request.
    func path(_ path: Substring, endsWith suffix: StaticString) -> Bool {
        let bytes = UnsafeBufferPointer(start: suffix.utf8Start, count: suffix.utf8CodeUnitCount)
        return path.utf8.count >= bytes.count && path.utf8.suffix(bytes.count).elementsEqual(bytes)
    }
}
