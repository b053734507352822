import Hummingbird
import TollgateStorage

/// `GET /healthz` (the process is up) and `GET /readyz` (it can serve: database writable,
/// pricing loaded). Both answer without auth (SPEC §1).
struct HealthRoutes: Sendable {
    let database: TollgateDatabase
    let pricing: PricingStore

    func register(on router: Router<TollgateRequestContext>) {
        router.get("/healthz") { _, _ in
            AdminResponse.json(#"{"status":"ok"}"#)
        }
        router.get("/readyz") { _, _ in
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
            return AdminResponse.json(o.string)
        }
    }
}
