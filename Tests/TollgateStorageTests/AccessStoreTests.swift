import Testing
import TollgateCore
@testable import TollgateStorage

@Suite("Orgs, keys, budgets and alerts in SQLite")
struct AccessStoreTests {
    func key(_ id: String, org: String = "acme", team: String? = nil) -> TollgateKey {
        TollgateKey(id: id, hash: "hash-" + id, prefix: "tg_" + id, org: org, team: team, allowedModels: ["gpt-4o*"], rpmLimit: 5, createdAtMs: 1)
    }

    @Test("a budget's spend is its scope's cost in the period, from the rollups written with the events")
    func spendFromRollups() async throws {
        try await withTemporaryDatabase { database, _ in
            let store = AccessStore(database: database)
            try await store.insert(Organization(id: "acme", name: "Acme", createdAtMs: 1))
            let writer = UsageWriter.manual(database)
            let day0 = Fixtures.day0
            writer.record(Fixtures.event("a", at: day0 - Fixtures.day, key: "key_a", team: "ml", costNanos: 1_000))  // the day before
            writer.record(Fixtures.event("b", at: day0 + Fixtures.hour, key: "key_a", team: "ml", costNanos: 200))
            writer.record(Fixtures.event("c", at: day0 + 2 * Fixtures.hour, key: "key_b", team: "ml", costNanos: 30))
            writer.record(Fixtures.event("d", at: day0 + 3 * Fixtures.hour, key: "key_c", team: "web", costNanos: 4))
            writer.record(Fixtures.event("e", at: day0 + 3 * Fixtures.hour, org: "beta", key: "key_d", team: "ml", costNanos: 50_000))
            try await writer.flush()
            func budget(_ scope: Budget.Scope, _ id: String, _ period: BudgetPeriod) -> Budget {
                Budget(id: "b", scope: scope, scopeID: id, org: "acme", limitNanos: 1, period: period)
            }
            let start = BudgetPeriod.day.start(containing: day0 + Fixtures.hour)
            #expect(try await store.spentNanos(budget(.key, "key_a", .day), sinceMs: start) == 200)
            #expect(try await store.spentNanos(budget(.team, "ml", .day), sinceMs: start) == 230)
            #expect(try await store.spentNanos(budget(.org, "acme", .day), sinceMs: start) == 234)
            #expect(try await store.spentNanos(budget(.org, "acme", .total), sinceMs: 0) == 1_234)
        }
    }

    @Test("the change counter moves for key, org and budget changes, but not for last-use times")
    func version() async throws {
        try await withTemporaryDatabase { database, _ in
            let store = AccessStore(database: database)
            let v0 = try await store.version()
            try await store.insert(Organization(id: "acme", name: "Acme", createdAtMs: 1))
            try await store.insert(key("key_a"))
            let v1 = try await store.version()
            #expect(v1 == v0 + 2)
            try await store.touch(["key_a": 99])
            #expect(try await store.version() == v1)
            #expect(try await store.key("key_a")?.lastUsedAtMs == 99)
            var revoked = try #require(try await store.key("key_a"))
            revoked.revokedAtMs = 100
            try await store.update(revoked)
            #expect(try await store.version() == v1 + 1)
            let snapshot = try await store.snapshot()
            #expect(snapshot.keys.map(\.id) == ["key_a"])
            #expect(snapshot.keys[0].allowedModels == ["gpt-4o*"])
            #expect(snapshot.keys[0].revokedAtMs == 100)
            #expect(Set(snapshot.orgs.map(\.id)) == ["acme", "default"])
        }
    }

    @Test("duplicate ids and duplicate budget scopes are conflicts; an org with keys cannot be deleted")
    func conflicts() async throws {
        try await withTemporaryDatabase { database, _ in
            let store = AccessStore(database: database)
            try await store.insert(Organization(id: "acme", name: "Acme", createdAtMs: 1))
            await #expect(throws: StorageError.self) { try await store.insert(Organization(id: "acme", name: "Again", createdAtMs: 1)) }
            try await store.insert(key("key_a"))
            await #expect(throws: StorageError.self) { try await store.deleteOrg("acme") }
            let budget = Budget(id: "bud_1", scope: .org, scopeID: "acme", org: "acme", limitNanos: 5, period: .month)
            try await store.insert(budget)
            var twin = budget
            twin.id = "bud_2"
            await #expect(throws: StorageError.self) { try await store.insert(twin) }
            #expect(try await store.budget(matching: twin)?.id == "bud_1")
        }
    }

    @Test("an alert is stored once per dedupe key, and its delivery status is kept")
    func alerts() async throws {
        try await withTemporaryDatabase { database, _ in
            let store = AccessStore(database: database)
            let alert = AlertRecord(
                id: "alt_1", dedupeKey: "bud_1|0|threshold|5000", budgetID: "bud_1", org: "acme", kind: "threshold",
                thresholdBP: 5000, periodStartMs: 0, firedAtMs: 10, message: "half", payload: "{}")
            #expect(try await store.insert(alert))
            var again = alert
            again.id = "alt_2"
            #expect(try await store.insert(again) == false)
            try await store.recordDelivery(id: "alt_1", delivered: true, attempts: 3, lastError: nil)
            let listed = try await store.alerts(org: "acme")
            #expect(listed.count == 1)
            #expect(listed[0].delivered && listed[0].attempts == 3)
            #expect(try await store.undeliveredAlerts().isEmpty)
            #expect(try await store.snapshot().firedAlerts == ["bud_1|0|threshold|5000"])
        }
    }
}
