import Hummingbird
import NIOCore
import TollgateCore
import TollgateStorage

/// `/admin/stats/timeseries`, `/admin/stats/breakdown`, `/admin/stats/forecast`, `/admin/usage` and
/// `/admin/export` (SPEC §9), all with the stats filters and org scoping.
struct AnalyticsRoutes: Sendable {
    let store: UsageStore
    let clock: @Sendable () -> Int64

    func register(on router: RouterGroup<TollgateRequestContext>) {
        let store = self.store
        let clock = self.clock
        route(router, "/admin/stats/timeseries") { q, p in try await AdminAnalytics.timeseries(store: store, query: q, by: p) }
        route(router, "/admin/stats/breakdown") { q, p in try await AdminAnalytics.breakdown(store: store, query: q, by: p) }
        route(router, "/admin/stats/forecast") { q, p in try await AdminAnalytics.forecast(store: store, query: q, by: p, nowMs: clock()) }
        route(router, "/admin/usage") { q, p in try await AdminAnalytics.usage(store: store, query: q, by: p) }
        router.get("/admin/export") { request, context in
            let principal = try context.requirePrincipal()
            return try export(AccessRoutes.query(request), by: principal)
        }
    }

    private func route(
        _ router: RouterGroup<TollgateRequestContext>, _ path: String,
        _ answer: @escaping @Sendable ([String: String], AdminPrincipal) async throws -> JSONObject
    ) {
        router.get(RouterPath(path)) { request, context in
            let principal = try context.requirePrincipal()
            return AdminResponse.json(try await answer(AccessRoutes.query(request), principal).string)
        }
    }

    /// Streams every matching event, 1000 per database page: CSV with a header row, or a JSON array.
    private func export(_ query: [String: String], by principal: AdminPrincipal) throws -> Response {
        let format = query["format"] ?? "csv"
        guard format == "csv" || format == "json" else {
            throw AdminStats.InvalidQuery(message: "'format' must be csv or json, got '\(format)'.")
        }
        _ = try AdminStats.filter(query, by: principal)  // refuse bad filters before the body starts
        let store = self.store
        let body = ResponseBody { writer in
            var first = true
            try await writer.write(ByteBuffer(string: format == "csv" ? UsageEventExport.csvHeader : "["))
            try await AdminAnalytics.exportPages(store: store, query: query, by: principal) { events in
                var text = ""
                for event in events {
                    if format == "csv" {
                        text += UsageEventExport.csvRow(event)
                    } else {
                        text += (first ? "\n" : ",\n") + UsageEventExport.json(event).string
                        first = false
                    }
                }
                if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
            }
            if format == "json" { try await writer.write(ByteBuffer(string: "\n]\n")) }
            try await writer.finish(nil)
        }
        let type = format == "csv" ? "text/csv; charset=utf-8" : "application/json"
        return Response(
            status: .ok,
            headers: [.contentType: type, .contentDisposition: "attachment; filename=\"tollgate-usage.\(format)\""],
            body: body)
    }
}
