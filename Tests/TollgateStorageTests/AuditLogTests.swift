import GRDB
import Testing
import TollgateCore

@testable import TollgateStorage

@Suite("Audit log: filters, pages, retention, append-only")
struct AuditLogTests {
    @Test("entries page newest first under filters, and retention deletes only what is older than its cut-off")
    func pagesAndRetention() async throws {
        try await withTemporaryDatabase { database, _ in
            let log = AuditLog(database: database)
            for at in 1...6 {
                try await log.append(AuditEntry(atMs: Int64(at) * 1000, actor: at % 2 == 0 ? "master" : "key_a", action: "key.update", org: "acme"))
            }
            let first = try await log.entries(AuditFilter(actor: "master"), limit: 2)
            #expect(first.entries.map(\.atMs) == [6000, 4000])
            let rest = try await log.entries(AuditFilter(actor: "master"), limit: 2, after: first.next)
            #expect(rest.entries.map(\.atMs) == [2000] && rest.next == nil)
            #expect(try await log.entries(AuditFilter(from: 2000, to: 4000), limit: 10).entries.map(\.atMs) == [3000, 2000])
            #expect(try await log.prune(before: 3000) == 2)
            #expect(try await log.entries(AuditFilter(), limit: 10).entries.map(\.atMs) == [6000, 5000, 4000, 3000])
            await #expect(throws: (any Error).self) {
                try await database.pool.write { db in try db.execute(sql: "UPDATE audit_log SET actor = 'x'") }
            }
        }
    }
}
