import Hummingbird
import TollgateCore
import TollgateStorage

/// `GET /healthz` (the process is up) and `GET /readyz` (it can serve: database writable,
/// usage events committing, pricing loaded). Both answer without auth (SPEC §1).
///
/// A writer whose commits fail (a full disk, a read-only file) makes `/readyz` answer 503 with
/// how many events wait and why, though a probe write may still succeed: a load balancer then
/// sends traffic to an instance that records it.
struct HealthRoutes: Sendable {
    let database: TollgateDatabase
    let pricing: PricingStore
    let writer: @Sendable () -> UsageWriterMetrics

    func register(on router: Router<TollgateRequestContext>) {
        router.get("/healthz") { _, _ in
            AdminResponse.json(#"{"status":"ok"}"#)
        }
        router.get("/readyz") { _, _ in
            let usage = writer()
            let writerState = Ready.Writer(
                pendingEvents: usage.pending, failedCommitsInARow: usage.consecutiveFailures, lastError: usage.lastError)
            if usage.consecutiveFailures > 0 {
                let message = "Usage events cannot be committed (\(usage.consecutiveFailures) failed attempts in a row; \(usage.pending) events wait in memory and are retried): \(usage.lastError ?? "unknown error"). Free disk space or fix the database file's permissions."
                let answer = Ready(
                    status: "unavailable", error: .init(message: message, code: "usage_writer_failing"), usageWriter: writerState)
                return AdminResponse.json(answer, status: .serviceUnavailable)
            }
            switch await Self.probe(database, within: Self.probeBudget) {
            case .writable: break
            case .failed(let error):
                return AdminResponse.error(.serviceUnavailable, code: "database_unavailable", "The database does not take writes: \(error)")
            case .late:
                return AdminResponse.error(
                    .serviceUnavailable, code: "database_busy",
                    "The database did not take a write within \(Self.probeBudget): another process holds a lock on it, or the disk is stalled. Usage events wait in memory and are retried.")
            }
            let table = pricing.current
            guard !table.models.isEmpty else {
                return AdminResponse.error(.serviceUnavailable, code: "pricing_empty", "No pricing is loaded.")
            }
            return AdminResponse.json(Ready(status: "ready", pricingVersion: table.version, usageWriter: writerState))
        }
    }

    /// `/readyz`'s answer: ready with the pricing version, or why not; the usage writer's state either way.
    struct Ready: Codable, Sendable, Equatable {
        var status: String
        var error: ErrorBody?
        var pricingVersion: String?
        var usageWriter: Writer

        struct ErrorBody: Codable, Sendable, Equatable {
            var message: String
            var code: String
        }

        struct Writer: Codable, Sendable, Equatable {
            var pendingEvents: Int
            var failedCommitsInARow: Int
            @Nullable var lastError: String?

            enum CodingKeys: String, CodingKey {
                case pendingEvents = "pending_events", failedCommitsInARow = "failed_commits_in_a_row", lastError = "last_error"
            }
        }

        enum CodingKeys: String, CodingKey { case status, error, pricingVersion = "pricing_version", usageWriter = "usage_writer" }
    }

    /// How long `/readyz` waits for its probe write. A write queues behind the usage writer's, which
    /// waits up to the busy timeout on a lock another process holds: a probe that waited too would
    /// answer after a load balancer's probe timeout, so it answers 503 `database_busy` instead.
    static let probeBudget: Duration = .seconds(2)

    enum Probe: Sendable {
        case writable, late
        case failed(String)
    }

    /// The probe write, or `late` once `budget` passes (the write itself goes on in the background).
    static func probe(_ database: TollgateDatabase, within budget: Duration) async -> Probe {
        await withCheckedContinuation { continuation in
            let answer = ResumeOnce(continuation)
            let timer = Task {
                try await Task.sleep(for: budget)
                answer.resume(.late)
            }
            Task {
                do {
                    try await database.checkWritable()
                    answer.resume(.writable)
                } catch {
                    answer.resume(.failed("\(error)"))
                }
                timer.cancel()
            }
        }
    }
}
