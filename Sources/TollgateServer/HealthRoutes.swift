import Hummingbird

/// `GET /healthz` (the process is up) and `GET /readyz` (it can serve: database writable,
/// pricing loaded). Both answer without auth (SPEC §1).
struct HealthRoutes {
    func register(on router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(string: #"{"status":"ok"}"#)))
        }
        router.get("/readyz") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(string: #"{"status":"ready"}"#)))
        }
    }
}
