/// How a request ended (SPEC §5 `outcome`).
package enum Outcome: String, Sendable, Codable, CaseIterable {
    case ok
    case upstreamError = "upstream_error"
    case upstreamUnavailable = "upstream_unavailable"
    case upstreamTimeout = "upstream_timeout"
    case upstreamDropped = "upstream_dropped"
    case clientAbort = "client_abort"
    case invalidRequest = "invalid_request"
    case unauthorized
    case forbidden
    case budgetBlocked = "budget_blocked"
    case rateLimited = "rate_limited"

    /// Requests Tollgate refused before forwarding (counted as `blocked_requests`).
    package var isBlocked: Bool {
        switch self {
        case .budgetBlocked, .rateLimited, .unauthorized, .forbidden: true
        default: false
        }
    }
}
