/// AWS Bedrock's runtime API (SPEC §14): `/model/{modelId}/converse`, `…/converse-stream`,
/// `…/invoke` and `…/invoke-with-response-stream`, the model id (percent-encoded by the SDKs)
/// in the path. Converse has one body format for every model; InvokeModel takes the model's own
/// (Anthropic's Messages body with `anthropic_version` on Claude). Streams are AWS event
/// streams (`AWSEventStreamDecoder`, `BedrockStreamMeter`), not SSE.
///
/// Tollgate signs each call with Signature V4 (`AWSSigner`); a Bedrock API key, if configured
/// instead, goes as a bearer token. Errors carry their type in `x-amzn-errortype`, which boto3
/// reads first, so it raises its typed exceptions.
struct BedrockWireFormat: WireFormat {


    enum Action: String {
        case converse, converseStream = "converse-stream", invoke, invokeStream = "invoke-with-response-stream"
        case countTokens = "count-tokens"
    }

    /// The model id and action of `/model/{id}/{action}`.
    static func parse(_ path: Substring) -> (model: Substring, action: Action)? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count == 4, segments[0].isEmpty, segments[1] == "model", !segments[2].isEmpty,
            let action = Action(rawValue: String(segments[3]))
        else { return nil }
        return (segments[2], action)
    }

    /// The action says whether the answer streams, never the body.
    func streams(path: Substring) -> Bool? {
        switch Self.parse(path)?.action {
        case .converseStream?, .invokeStream?: true
        default: false
        }
    }

    func endpoint(forPath path: Substring) -> Endpoint {
        switch Self.parse(path)?.action {
        case .converse?, .converseStream?: .chat
        case .invoke?, .invokeStream?: .messages
        case .countTokens?, nil: .other
        }
    }

    func bodyFormat(forPath path: Substring) -> ProviderFormat { .bedrock }

    /// The model id, decoded (`us.anthropic.claude-3-5-sonnet-20241022-v2:0`, or an ARN).
    func model(inPath path: Substring) -> String? {
        guard let id = Self.parse(path)?.model else { return nil }
        return String(decoding: AWSSigner.decode(id.utf8), as: UTF8.self)
    }

    /// Bedrock's paths have no version segment.
    func versionedRest(_ segments: ArraySlice<Substring>) -> ArraySlice<Substring>? { segments }

    /// CountTokens costs nothing.
    func isFree(_ rest: ArraySlice<Substring>) -> Bool {
        rest.count == 3 && rest.first == "model" && rest.last == "count-tokens"
    }

    /// A Bedrock API key (`TOLLGATE_BEDROCK_API_KEY`) is a bearer token; access keys sign instead.
    func credentialHeader(apiKey: String) -> (name: String, value: String) { ("authorization", "Bearer " + apiKey) }

    func errorBody(_ error: RequestError, quotedMessage message: String, quotedCode code: String) -> String {
        #"{"message":\#(message),"code":\#(code)}"#
    }

    /// Bedrock runtime's own exception names, which boto3 maps to its typed exceptions. A spent
    /// budget is a quota (not retried by boto3), a rate limit a throttle (retried after a pause).
    func errorHeaders(_ error: RequestError) -> [(name: String, value: String)] {
        let type: String =
            switch error.code {
            case .invalidAPIKey, .modelNotAllowed, .modelNotPriced, .endpointNotAllowed: "AccessDeniedException"
            case .invalidRequest, .requestTooLarge: "ValidationException"
            case .notFound: "ResourceNotFoundException"
            case .rateLimitExceeded: "ThrottlingException"
            case .budgetExceeded: "ServiceQuotaExceededException"
            case .providerNotConfigured: "InternalServerException"
            case .upstreamUnavailable: "ServiceUnavailableException"
            case .upstreamTimeout, .requestTimeout, .clientGone: "ModelTimeoutException"
            }
        return [("x-amzn-errortype", type)]
    }

    /// Converse's camelCase usage, InvokeModel streams' invocation metrics, or (InvokeModel on
    /// Claude) Anthropic's own usage, whichever the answer has, in that order. Input excludes
    /// cache reads and writes in all three.
    func usage(_ u: ProviderUsage) -> Usage {
        if u.inputTokenCount != nil || u.outputTokenCount != nil {
            return Self.anthropicStyle(
                input: u.inputTokenCount, output: u.outputTokenCount, read: u.cacheReadInputTokenCount, write: u.cacheWriteInputTokenCount)
        }
        if u.converseInputTokens != nil || u.converseOutputTokens != nil {
            return Self.anthropicStyle(
                input: u.converseInputTokens, output: u.converseOutputTokens, read: u.converseCacheReadInputTokens,
                write: u.converseCacheWriteInputTokens)
        }
        return AnthropicWireFormat().usage(u)
    }

    /// The token counts InvokeModel's answers carry in headers, for models whose bodies have no
    /// usage Tollgate reads (Llama, Titan, Mistral on Bedrock).
    func headerUsage(_ headers: [(name: String, value: String)]) -> Usage? {
        func count(_ name: String) -> Int? { headers.first { $0.name == name }.flatMap { Int($0.value) } }
        guard let input = count("x-amzn-bedrock-input-token-count"), let output = count("x-amzn-bedrock-output-token-count") else { return nil }
        return Self.anthropicStyle(
            input: input, output: output, read: count("x-amzn-bedrock-cache-read-input-token-count"),
            write: count("x-amzn-bedrock-cache-write-input-token-count"))
    }

    private static func anthropicStyle(input: Int?, output: Int?, read: Int?, write: Int?) -> Usage {
        let read = read ?? 0
        let write = write ?? 0
        return Usage(
            inputTokens: (input ?? 0).saturatingAdd(read).saturatingAdd(write), outputTokens: output ?? 0, cachedInputTokens: read,
            cacheWriteTokens: write)
    }
}
