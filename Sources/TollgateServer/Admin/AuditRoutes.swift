import Hummingbird
import TollgateCore
import TollgateStorage

/// `GET /admin/audit` (SPEC §13): the audit log, newest first, read-only (no route edits or
/// deletes it). Filters `from`, `to` (default: all time), `org`, `actor`, `action`; `limit` ≤ 1000
/// (default 100) and `cursor`. An org admin sees its own org's entries.
struct AuditRoutes: Sendable {
    let log: AuditLog

    func register(on router: RouterGroup<TollgateRequestContext>) {
        router.get("/admin/audit") { request, context in
            let principal = try context.requirePrincipal()
            return AdminResponse.json(try await entries(QueryParameters(request), by: principal))
        }
    }

    private func entries(_ q: QueryParameters, by principal: AdminPrincipal) async throws -> ListAnswer<AuditView> {
        let nowMs = AccessControl.systemClock()
        var filter = AuditFilter(org: try principal.scope(q["org"]), actor: q["actor"], action: q["action"])
        if let from = q["from"] { filter.from = try TimeRange.instant(from, nowMs: nowMs, field: "from") }
        if let to = q["to"] { filter.to = try TimeRange.instant(to, nowMs: nowMs, field: "to") }
        var cursor: AuditEntry?
        if let text = q["cursor"] {
            let parts = text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let at = Int64(parts[0]) else { throw InvalidQuery("'cursor' is not one this API gave.") }
            cursor = AuditEntry(id: String(parts[1]), atMs: at, actor: "", action: "")
        }
        let page = try await log.entries(filter, limit: try q.count("limit", default: 100, max: 1000), after: cursor)
        return ListAnswer(data: page.entries.map(AuditView.init), nextCursor: page.next.map { "\($0.atMs):\($0.id)" })
    }
}

/// One audit entry as the API shows it: `{"id","at","actor","action","target","org","ip","outcome"}`.
package struct AuditView: Codable, Sendable, Equatable {
    package var id: String
    package var at: String
    package var actor: String
    package var action: String
    @Nullable package var target: String?
    @Nullable package var org: String?
    @Nullable package var ip: String?
    package var outcome: String

    init(_ entry: AuditEntry) {
        (id, at, actor, action) = (entry.id, UTCTime.iso(entry.atMs), entry.actor, entry.action)
        (target, org, ip, outcome) = (entry.target, entry.org, entry.ip, entry.outcome)
    }
}
