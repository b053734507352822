import Hummingbird
import Logging
import TollgateStorage

extension AdminError {
    /// The admin API's answer to any error a route let escape, so no admin route answers with an
    /// empty body: a refusal as it is, a bad query 400, a database that cannot be written 503
    /// `database_unavailable` with what to check, anything else 500 `internal_error` (logged).
    static func answering(_ error: any Error, logger: Logger) -> AdminError {
        switch error {
        case let refusal as AdminError:
            return refusal
        case let invalid as InvalidQuery:
            return AdminError(.badRequest, code: "invalid_request", invalid.message)
        case let http as any HTTPResponseError where http.status == .contentTooLarge:
            return AdminError(.payloadTooLarge, code: "request_too_large", "The request body is over the admin API's 1 MiB limit.")
        case let http as HTTPError where http.status == .badRequest:
            return AdminError(.badRequest, code: "invalid_request", http.body ?? "The request is malformed.")
        default:
            break
        }
        guard let storage = StorageError.classify(error) else {
            logger.error("admin request failed: \(error)")
            return AdminError(.internalError, code: "internal_error", "Tollgate could not answer this request; its log says why. Retry, and report it if it persists.")
        }
        logger.error("admin request failed in storage: \(storage)")
        switch storage.code {
        case .notWritable, .openFailed:
            var answer = AdminError(
                .serviceUnavailable, code: "database_unavailable",
                "The database cannot be written (\(storage.message)): check that Tollgate's SQLite file and its directory are writable, that the disk is not full and that no other process holds a lock on it, then retry.")
            answer.retryAfterSeconds = 5
            return answer
        case .conflict:
            return AdminError(.conflict, code: "conflict", storage.message)
        case .invalidFilter:
            return AdminError(.badRequest, code: "invalid_request", storage.message)
        case .migrationFailed, .databaseFailed:
            return AdminError(.internalError, code: "internal_error", "The database query failed (\(storage.message)); Tollgate's log has the details. Retry, and report it if it persists.")
        }
    }
}
