import Hummingbird
import NIOCore
import TollgateCore
import TollgateStorage

/// `/admin/stats`, `/admin/stats/timeseries`, `/admin/stats/breakdown`, `/admin/stats/errors`, `/admin/stats/forecast`,
/// `/admin/usage` and `/admin/export` (SPEC §9): each parses its typed query and answers with
/// `AdminStats`, the same functions the dashboard and the CLI call.
struct StatsRoutes: Sendable {
    let stats: AdminStats
    /// Every export is on record: who took which events, from where.
    let audit: AuditTrail

    func register(on router: RouterGroup<TollgateRequestContext>) {
        let stats = self.stats
        route(router, "/admin/stats") { q, p in try await stats.summary(SummaryQuery(q), by: p) }
        route(router, "/admin/stats/timeseries") { q, p in try await stats.timeseries(TimeseriesQuery(q), by: p) }
        route(router, "/admin/stats/breakdown") { q, p in try await stats.breakdown(BreakdownQuery(q), by: p) }
        route(router, "/admin/stats/errors") { q, p in try await stats.errors(ErrorsQuery(q), by: p) }
        route(router, "/admin/stats/forecast") { q, p in try await stats.forecast(ForecastQuery(q), by: p) }
        route(router, "/admin/usage") { q, p in try await stats.usage(UsageQuery(q), by: p) }
        router.get("/admin/export") { request, context in
            let principal = try context.requirePrincipal()
            let parameters = QueryParameters(request)
            let response = try export(parameters, by: principal)
            try await audit.record("export", by: try context.requireActor(), target: request.uri.query ?? "", org: parameters["org"] ?? principal.org)
            return response
        }
    }

    private func route<Answer: Encodable & Sendable>(
        _ router: RouterGroup<TollgateRequestContext>, _ path: String,
        _ answer: @escaping @Sendable (QueryParameters, AdminPrincipal) async throws -> Answer
    ) {
        router.get(RouterPath(path)) { request, context in
            let principal = try context.requirePrincipal()
            return AdminResponse.json(try await answer(QueryParameters(request), principal))
        }
    }

    /// Streams every matching event, 1000 per database page: CSV with a header row, or a JSON array.
    private func export(_ parameters: QueryParameters, by principal: AdminPrincipal) throws -> Response {
        let format = parameters["format"] ?? "csv"
        guard format == "csv" || format == "json" else { throw InvalidQuery("'format' must be csv or json, got '\(format)'.") }
        return Self.exportResponse(try stats.export(try StatsQuery(parameters), by: principal), format: format)
    }

    /// `events` as a download: CSV with a header row, or a JSON array, streamed a page at a time.
    static func exportResponse(_ events: EventExport, format: String) -> Response {
        let body = ResponseBody { writer in
            try await events.write(format: format) { text, _ in try await writer.write(ByteBuffer(string: text)) }
            try await writer.finish(nil)
        }
        let type = format == "csv" ? "text/csv; charset=utf-8" : "application/json"
        return Response(
            status: .ok,
            headers: [.contentType: type, .contentDisposition: "attachment; filename=\"tollgate-usage.\(format)\""],
            body: body)
    }
}
