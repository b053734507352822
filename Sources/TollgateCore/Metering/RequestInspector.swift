import Foundation

/// What the proxy needs from a metered request's body, read once (SPEC §2, §5).
package struct RequestInspection: Sendable, Equatable {
    package var model: String?
    package var stream = false
    /// The body's OpenAI `user` field.
    package var user: String?
    /// `max_tokens`, `max_completion_tokens`, `max_output_tokens` or `generationConfig.maxOutputTokens`.
    package var maxOutputTokens: Int?
    /// Rough input size for estimates: body bytes / 4.
    package var estimatedInputTokens = 0
    /// The body to send upstream instead of the client's, when Tollgate asked for stream usage.
    package var upstreamBody: [UInt8]?
    /// Tollgate added `stream_options.include_usage`; the extra usage chunk must not reach the client.
    package var stripUsageChunk = false

    package init() {}
}

package enum RequestInspector {
    /// Parses `body`; throws `RequestError.invalidRequest` naming what is wrong.
    package static func inspect(
        _ body: some Collection<UInt8>, format: ProviderFormat, endpoint: Endpoint, path: Substring
    ) throws(RequestError) -> RequestInspection {
        var inspection = RequestInspection()
        inspection.estimatedInputTokens = body.count / 4
        if format == .gemini {
            inspection.stream = path.hasSuffix(":streamGenerateContent")
            if let models = path.range(of: "/models/"), let colon = path.lastIndex(of: ":"), models.upperBound < colon {
                inspection.model = String(path[models.upperBound..<colon])
            }
        }
        guard !body.isEmpty else {
            throw .invalidRequest("The request body is empty; this endpoint expects a JSON object.")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(body))
        } catch {
            throw .invalidRequest("The request body is not valid JSON (\(Self.describe(error))). Send a JSON object.")
        }
        guard let json = object as? [String: Any] else {
            throw .invalidRequest("The request body must be a JSON object, not an array or a scalar.")
        }
        if let model = json["model"] as? String { inspection.model = model }
        if format != .gemini { inspection.stream = (json["stream"] as? Bool) ?? false }
        inspection.user = json["user"] as? String
        inspection.maxOutputTokens =
            (json["max_completion_tokens"] as? Int) ?? (json["max_tokens"] as? Int) ?? (json["max_output_tokens"] as? Int)
            ?? ((json["generationConfig"] as? [String: Any])?["maxOutputTokens"] as? Int)

        if format == .openai, inspection.stream, endpoint == .chat || endpoint == .completion {
            let options = json["stream_options"] as? [String: Any]
            if (options?["include_usage"] as? Bool) != true {
                inspection.upstreamBody = withIncludeUsage(Array(body), json: json, hasOptions: json["stream_options"] != nil)
                inspection.stripUsageChunk = inspection.upstreamBody != nil
            }
        }
        return inspection
    }

    /// The body with `stream_options.include_usage: true`. Without a `stream_options` key the
    /// member is appended before the closing brace, leaving every other byte as the client sent it.
    static func withIncludeUsage(_ body: [UInt8], json: [String: Any], hasOptions: Bool) -> [UInt8]? {
        if !hasOptions, let close = body.lastIndex(of: UInt8(ascii: "}")) {
            let isEmpty = body[..<close].last { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) } == UInt8(ascii: "{")
            let member = Array(((isEmpty ? "" : ",") + #""stream_options":{"include_usage":true}"#).utf8)
            var out = body
            out.insert(contentsOf: member, at: close)
            return out
        }
        var copy = json
        var options = json["stream_options"] as? [String: Any] ?? [:]
        options["include_usage"] = true
        copy["stream_options"] = options
        return (try? JSONSerialization.data(withJSONObject: copy)).map { Array($0) }
    }

    private static func describe(_ error: Error) -> String {
        let nsError = error as NSError
        return (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? "it does not parse"
    }
}
