import Hummingbird
import NIOCore

/// `GET /metrics` in the Prometheus text format (SPEC §9): open by default, since it holds no
/// per-key secrets; with `metrics.require_admin: true` it takes the admin API's bearer auth (the
/// master key or an org-admin key; 401 without a valid one, 403 for a client key).
struct MetricsRoutes: Sendable {
    let exporter: MetricsExporter

    /// The exposition format's content type, as Prometheus asks for it.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// - Parameter router: the admin group (behind `AdminAuthMiddleware`) when `metrics.require_admin`, else an open one.
    func register(on router: RouterGroup<TollgateRequestContext>) {
        router.get("/metrics") { _, _ in scrape() }
    }

    private func scrape() -> Response {
        Response(
            status: .ok, headers: [.contentType: Self.contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: exporter.scrape())))
    }
}
