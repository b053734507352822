import Foundation

/// What the proxy needs from a metered request's body, read once (SPEC §2, §5, §7).
package struct RequestInspection: Sendable, Equatable {
    /// From the body's `model`, else the path's (`WireFormat.model(inPath:)`): Gemini's and
    /// Vertex's `models/M:generateContent`, an Azure deployment.
    package var model: String?
    /// OpenAI and Anthropic `"stream": true`; the path where the format says so
    /// (`WireFormat.streams(path:)`: Gemini's `:streamGenerateContent`, Bedrock's `…-stream`).
    package var stream = false
    /// The body's OpenAI `user` field.
    package var user: String?
    /// The request's output cap: `max_completion_tokens`, `max_tokens`, `max_output_tokens`,
    /// `generationConfig.maxOutputTokens` or (Bedrock Converse) `inferenceConfig.maxTokens`,
    /// whichever it sets.
    package var maxOutputTokens: Int?
    /// Rough input size: UTF-8 bytes of the text in the body / 4, rounded up (see `RequestInspector`).
    package var estimatedInputTokens = 0
    /// The body to send upstream instead of the client's, when Tollgate asked for stream usage.
    package var upstreamBody: [UInt8]?
    /// Tollgate added `stream_options.include_usage`; the extra usage chunk must not reach the client.
    package var stripUsageChunk = false
    /// The body in the response cache's canonical form, when asked for (`CacheKey`).
    package var canonicalBody: String?

    package init() {}
}

/// Reads a metered request's JSON body once (SPEC §2, §5), with `RequestBodyReader`.
///
/// A body that is not a JSON object is refused (400 `invalid_request`) with the reader's
/// account of what is wrong and where. For OpenAI chat and completions streams that do not ask for usage,
/// the body sent upstream gains `"stream_options":{"include_usage":true}` by splicing bytes —
/// every other byte stays as the client sent it — and the answer's usage chunk is then stripped.
package enum RequestInspector {
    /// Reads `body`; throws `RequestError.invalidRequest` naming what is wrong. With
    /// `canonicalize`, also gives the body's canonical form for the response cache.
    package static func inspect(
        _ body: some Collection<UInt8>, format: ProviderFormat, endpoint: Endpoint, path: Substring, canonicalize: Bool = false
    ) throws(RequestError) -> RequestInspection {
        var inspection = RequestInspection()
        let wire = format.wire
        let bodyFormat = wire.bodyFormat(forPath: path)
        inspection.model = wire.model(inPath: path)
        let streamsByPath = wire.streams(path: path)
        let bytes = Array(body)
        guard bytes.contains(where: { !JSONScanner.isSpace($0) }) else {
            throw .invalidRequest("The request body is empty; this endpoint expects a JSON object.")
        }
        let read: (facts: RequestBodyFacts, isObject: Bool)
        do {
            read = try bytes.withUnsafeBufferPointer { (p) throws(RequestBodyReader.Failure) in try RequestBodyReader.read(p) }
        } catch {
            throw .invalidRequest("The request body is not valid JSON (\(error.message)). Send a JSON object.")
        }
        guard read.isObject else {
            throw .invalidRequest("The request body must be a JSON object, not an array or a single value.")
        }
        let facts = read.facts
        if let model = facts.model { inspection.model = model }
        inspection.stream = streamsByPath ?? facts.stream
        inspection.user = facts.user
        inspection.maxOutputTokens = facts.maxOutputTokens
        inspection.estimatedInputTokens = (facts.textBytes + 3) / 4
        if canonicalize { inspection.canonicalBody = CacheKey.canonicalBody(bytes) }

        if bodyFormat == .openai, inspection.stream, endpoint == .chat || endpoint == .completion, !facts.includesUsage,
            let rewritten = withIncludeUsage(bytes)
        {
            inspection.upstreamBody = rewritten
            inspection.stripUsageChunk = true
        }
        return inspection
    }

    /// The body's top-level `model`, when it is a JSON object naming one (nil for anything else,
    /// e.g. a multipart upload).
    package static func model(in body: some Collection<UInt8>) -> String? {
        let bytes = Array(body)
        let read = try? bytes.withUnsafeBufferPointer { (p) throws(RequestBodyReader.Failure) in try RequestBodyReader.read(p) }
        return read?.facts.model
    }

    /// `body` with `stream_options.include_usage` set to true, changing as few bytes as possible:
    /// without `stream_options` the member is added before the closing brace; inside an existing
    /// `stream_options` object `"include_usage":true` is added first (or its `false`/`null`
    /// value replaced); a `null` `stream_options` becomes the object. Nil if `body` is not an object.
    static func withIncludeUsage(_ body: [UInt8]) -> [UInt8]? {
        body.withUnsafeBufferPointer { p -> [UInt8]? in
            guard let options = JSONScanner.topLevelValue(of: "stream_options", in: p) else {
                guard let close = body.lastIndex(of: UInt8(ascii: "}")) else { return nil }
                let previous = body[..<close].last { !JSONScanner.isSpace($0) }
                let member = (previous == UInt8(ascii: "{") ? "" : ",") + #""stream_options":{"include_usage":true}"#
                var out = body
                out.insert(contentsOf: Array(member.utf8), at: close)
                return out
            }
            var out = body
            guard p[options.lowerBound] == UInt8(ascii: "{") else {
                out.replaceSubrange(options, with: Array(#"{"include_usage":true}"#.utf8))
                return out
            }
            let inner = UnsafeBufferPointer(rebasing: p[options])
            if let value = JSONScanner.topLevelValue(of: "include_usage", in: inner) {
                let absolute = (options.lowerBound + value.lowerBound)..<(options.lowerBound + value.upperBound)
                out.replaceSubrange(absolute, with: Array("true".utf8))
                return out
            }
            let afterBrace = options.lowerBound + 1
            let empty = p[afterBrace..<options.upperBound].first { !JSONScanner.isSpace($0) } == UInt8(ascii: "}")
            out.insert(contentsOf: Array((#""include_usage":true"# + (empty ? "" : ",")).utf8), at: afterBrace)
            return out
        }
    }

    /// `D` from Azure's `/openai/deployments/D/…`: the model a deployment route names until the
    /// answer reports the deployed model (a body's `model` wins, as on the v1 route).
    static func azureDeployment(path: Substring) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 5, segments[0].isEmpty, segments[1] == "openai", segments[2] == "deployments", !segments[3].isEmpty else {
            return nil
        }
        return String(segments[3])
    }

    /// `M` from `…/models/M:generateContent` (also `tunedModels/M`).
    static func geminiModel(path: Substring) -> String? {
        guard let colon = path.lastIndex(of: ":") else { return nil }
        let head = path[..<colon]
        for marker in ["/models/", "/tunedModels/"] {
            if let range = head.range(of: marker, options: .backwards) {
                let name = head[range.upperBound...]
                return name.isEmpty ? nil : String(name)
            }
        }
        return nil
    }
}

/// How much text a request sends, for the input estimate used when the provider reports none
/// (and for budget worst cases before the request is sent).
///
/// Counts the UTF-8 bytes of every string in the body except those that hold binary data or
/// references (base64 images, audio and files, URLs) and plain settings; numbers inside lists
/// (pre-tokenized `prompt`/`input`) count as one token (4 bytes) each. Bytes / 4 is OpenAI's
/// rule of thumb for English text; it is an estimate and is always flagged as one.
enum InputEstimate {
    /// Keys whose string values are not text the model reads as tokens.
    static let skippedKeys: Set<String> = [
        "model", "user", "image_url", "input_audio", "inline_data", "inlineData", "file_data", "fileData", "data",
        "source", "url", "file_id", "mime_type", "mimeType", "media_type", "type", "role", "id", "tool_call_id",
        "stream_options", "metadata", "response_format_type", "service_tier", "reasoning_effort",
    ]

    static func isSkipped(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        skippedKeys.contains(String(decoding: key, as: UTF8.self))
    }
}
