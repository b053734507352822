/// Renders a `RequestError` as JSON in a provider format's own error shape, so each SDK raises
/// its usual typed error (SPEC §4).
package enum ErrorRenderer {
    /// The JSON body for `error` on a route of `format`.
    package static func body(_ error: RequestError, format: ProviderFormat) -> String {
        let message = JSONText.quoted(error.message)
        let code = JSONText.quoted(error.code.rawValue)
        switch format {
        case .openai:
            return #"{"error":{"message":\#(message),"type":\#(JSONText.quoted(openAIType(error))),"param":null,"code":\#(code)}}"#
        case .anthropic:
            return #"{"type":"error","error":{"type":\#(JSONText.quoted(anthropicType(error))),"message":\#(message),"code":\#(code)}}"#
        case .gemini:
            return #"{"error":{"code":\#(error.status),"message":\#(message),"status":\#(JSONText.quoted(googleStatus(error))),"reason":\#(code)}}"#
        }
    }

    /// Extra response headers the error carries: `Retry-After` on rate limits, and
    /// `x-should-retry: false` where retrying cannot help (SDKs honour it).
    package static func headers(_ error: RequestError) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        if let retryAfter = error.retryAfter { headers.append(("retry-after", String(retryAfter))) }
        switch error.code {
        case .budgetExceeded, .invalidAPIKey, .modelNotAllowed, .modelNotPriced, .endpointNotAllowed, .invalidRequest,
            .requestTooLarge,
            .providerNotConfigured, .notFound:
            headers.append(("x-should-retry", "false"))
        default: break
        }
        return headers
    }

    private static func openAIType(_ error: RequestError) -> String {
        switch error.code {
        case .budgetExceeded: "insufficient_quota"
        case .rateLimitExceeded: "rate_limit_error"
        case .invalidAPIKey, .invalidRequest, .requestTooLarge, .requestTimeout, .clientGone, .notFound,
            .modelNotAllowed, .modelNotPriced, .endpointNotAllowed:
            "invalid_request_error"
        case .providerNotConfigured, .upstreamUnavailable, .upstreamTimeout: "server_error"
        }
    }

    private static func anthropicType(_ error: RequestError) -> String {
        switch error.code {
        case .invalidAPIKey: "authentication_error"
        case .modelNotAllowed, .modelNotPriced, .endpointNotAllowed: "permission_error"
        case .invalidRequest: "invalid_request_error"
        case .notFound: "not_found_error"
        case .requestTooLarge: "request_too_large"
        case .rateLimitExceeded, .budgetExceeded: "rate_limit_error"
        case .providerNotConfigured, .upstreamUnavailable: "api_error"
        case .upstreamTimeout, .requestTimeout, .clientGone: "timeout_error"
        }
    }

    private static func googleStatus(_ error: RequestError) -> String {
        switch error.code {
        case .invalidAPIKey: "UNAUTHENTICATED"
        case .modelNotAllowed, .modelNotPriced, .endpointNotAllowed: "PERMISSION_DENIED"
        case .invalidRequest, .requestTooLarge: "INVALID_ARGUMENT"
        case .notFound: "NOT_FOUND"
        case .rateLimitExceeded, .budgetExceeded: "RESOURCE_EXHAUSTED"
        case .providerNotConfigured: "INTERNAL"
        case .upstreamUnavailable: "UNAVAILABLE"
        case .upstreamTimeout, .requestTimeout: "DEADLINE_EXCEEDED"
        case .clientGone: "CANCELLED"
        }
    }
}
