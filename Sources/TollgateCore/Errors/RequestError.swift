/// An error Tollgate itself answers a request with (SPEC §4); the server renders it in the
/// error shape of the route's provider format.
///
/// A struct around a code so callers can switch on `code` and new cases do not break them.
package struct RequestError: Error, Sendable, Equatable {
    /// Tollgate's own error codes, present in every rendered error.
    package enum Code: String, Sendable {
        case invalidAPIKey = "invalid_api_key"
        case modelNotAllowed = "model_not_allowed"
        case modelNotPriced = "model_not_priced"
        case endpointNotAllowed = "endpoint_not_allowed"
        case invalidRequest = "invalid_request"
        case notFound = "not_found"
        case requestTooLarge = "request_too_large"
        /// The client stopped sending its body (`limits.body_timeout`) or went away while it did.
        case requestTimeout = "request_timeout"
        /// The client went away before its answer (Caddy's and nginx's 499); nobody reads the
        /// rendered error, but the usage event records the status.
        case clientGone = "client_gone"
        case rateLimitExceeded = "rate_limit_exceeded"
        case budgetExceeded = "budget_exceeded"
        case providerNotConfigured = "provider_not_configured"
        case upstreamUnavailable = "upstream_unavailable"
        case upstreamTimeout = "upstream_timeout"
    }

    package var code: Code
    package var message: String
    /// Seconds the client should wait before retrying (429 only).
    package var retryAfter: Int?

    package init(_ code: Code, _ message: String, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    package var status: Int {
        switch code {
        case .invalidAPIKey: 401
        case .modelNotAllowed, .modelNotPriced, .endpointNotAllowed: 403
        case .invalidRequest: 400
        case .notFound: 404
        case .requestTooLarge: 413
        case .requestTimeout: 408
        case .clientGone: 499
        case .rateLimitExceeded, .budgetExceeded: 429
        case .providerNotConfigured: 500
        case .upstreamUnavailable: 502
        case .upstreamTimeout: 504
        }
    }

    /// The usage-event outcome a request refused with this error records.
    package var outcome: Outcome {
        switch code {
        case .invalidAPIKey: .unauthorized
        case .modelNotAllowed, .modelNotPriced, .endpointNotAllowed: .forbidden
        case .invalidRequest, .notFound, .requestTooLarge, .providerNotConfigured: .invalidRequest
        case .rateLimitExceeded: .rateLimited
        case .requestTimeout, .clientGone: .clientAbort
        case .budgetExceeded: .budgetBlocked
        case .upstreamUnavailable: .upstreamUnavailable
        case .upstreamTimeout: .upstreamTimeout
        }
    }

    package static func invalidRequest(_ message: String) -> RequestError { .init(.invalidRequest, message) }
}
