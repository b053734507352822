/// Renders a `RequestError` as JSON in a provider format's own error shape, so each SDK raises
/// its usual typed error (SPEC §4).
package enum ErrorRenderer {
    /// The JSON body for `error` on a route of `format`.
    package static func body(_ error: RequestError, format: ProviderFormat) -> String {
        format.wire.errorBody(error, quotedMessage: JSONText.quoted(error.message), quotedCode: JSONText.quoted(error.code.rawValue))
    }

    /// Extra response headers the error carries: `Retry-After` on rate limits,
    /// `x-should-retry: false` where retrying cannot help (SDKs honour it), and the format's own.
    package static func headers(_ error: RequestError, format: ProviderFormat) -> [(name: String, value: String)] {
        var headers = format.wire.errorHeaders(error)
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
}
