import Hummingbird
import TollgateCore
import TollgateStorage

/// `GET /admin/cache` and `DELETE /admin/cache` (SPEC §8), shared with `tollgate cache stats|clear`.
/// Without a running server's cache (the CLI), a running server drops its memory copy within a
/// second of a clear (it watches the cache generation).
package struct CacheAdmin: Sendable {
    let store: CacheStore
    let cache: ResponseCache?
    let clock: @Sendable () -> Int64

    init(store: CacheStore, cache: ResponseCache?, clock: @escaping @Sendable () -> Int64 = AccessControl.systemClock) {
        self.store = store
        self.cache = cache
        self.clock = clock
    }

    package init(database: TollgateDatabase) {
        self.init(store: CacheStore(database: database), cache: nil)
    }

    /// Entries and bytes in SQLite (an org admin's: its org's), and in memory when running.
    package func stats(org: String?, by principal: AdminPrincipal) async throws -> Totals {
        let scope = try principal.scope(org)
        let totals = try await store.totals(org: scope, nowMs: clock())
        let memory = cache?.memoryTotals
        return Totals(
            entries: totals.entries, bytes: totals.bytes, memoryEntries: memory?.entries, memoryBytes: memory?.bytes, maxBytes: cache?.maxBytes)
    }

    /// `GET /admin/cache`; the memory figures only from a running server.
    package struct Totals: Codable, Sendable, Equatable {
        package var entries: Int
        package var bytes: Int64
        package var memoryEntries: Int?
        package var memoryBytes: Int?
        package var maxBytes: Int?

        enum CodingKeys: String, CodingKey { case entries, bytes, memoryEntries = "memory_entries", memoryBytes = "memory_bytes", maxBytes = "max_bytes" }
    }

    /// `DELETE /admin/cache`.
    package struct Cleared: Codable, Sendable, Equatable {
        package var deleted: Int
        @Nullable package var org: String?
    }

    /// Deletes every entry (master only) or one org's.
    package func clear(org: String?, by principal: AdminPrincipal) async throws -> Cleared {
        let scope = try principal.scope(org)
        let deleted = try await store.clear(org: scope)
        cache?.forget(org: scope)
        return Cleared(deleted: deleted, org: scope)
    }
}

/// The HTTP side of `CacheAdmin`.
struct CacheRoutes: Sendable {
    let admin: CacheAdmin
    let audit: AuditTrail

    func register(on router: RouterGroup<TollgateRequestContext>) {
        router.get("/admin/cache") { request, context in
            let principal = try context.requirePrincipal()
            return AdminResponse.json(try await admin.stats(org: request.uri.queryParameters["org"].map(String.init), by: principal))
        }
        router.delete("/admin/cache") { request, context in
            let principal = try context.requirePrincipal()
            let cleared = try await admin.clear(org: request.uri.queryParameters["org"].map(String.init), by: principal)
            try await audit.record("cache.clear", by: try context.requireActor(), target: "\(cleared.deleted) entries", org: cleared.org)
            return AdminResponse.json(cleared)
        }
    }
}
