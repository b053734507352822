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
            var writerState = JSONObject()
            writerState.add("pending_events", usage.pending)
            writerState.add("failed_commits_in_a_row", usage.consecutiveFailures)
            writerState.add("last_error", usage.lastError)
            if usage.consecutiveFailures > 0 {
                var o = JSONObject()
                o.add("status", "unavailable")
                o.addRaw("error", #"{"message":\#(JSONText.quoted("Usage events cannot be committed (\(usage.consecutiveFailures) failed attempts in a row; \(usage.pending) events wait in memory and are retried): \(usage.lastError ?? "unknown error"). Free disk space or fix the database file's permissions.")),"code":"usage_writer_failing"}"#)
                o.add("usage_writer", writerState)
                return AdminResponse.json(o.string, status: .serviceUnavailable)
            }
            do {
                try await database.checkWritable()
            } catch {
                return AdminResponse.error(.serviceUnavailable, code: "database_unavailable", "The database does not take writes: \(error)")
            }
            let table = pricing.current
            guard !table.models.isEmpty else {
                return AdminResponse.error(.serviceUnavailable, code: "pricing_empty", "No pricing is loaded.")
            }
            var o = JSONObject()
            o.add("status", "ready")
            o.add("pricing_version", table.version)
            o.add("usage_writer", writerState)
            return AdminResponse.json(o.string)
        }
    }
}
