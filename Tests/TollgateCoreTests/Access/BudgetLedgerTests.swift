import Synchronization
import Testing
@testable import TollgateCore

@Suite("Budget reservations")
struct BudgetLedgerTests {
    let dollar: Int64 = 1_000_000_000

    func ledger(_ budgets: [Budget], clock: TestClock, spent: Int64 = 0, fired: Set<String> = []) -> BudgetLedger {
        let ledger = BudgetLedger(clock: clock.read)
        ledger.load(budgets, spentNanos: { _, _ in spent }, fired: fired)
        return ledger
    }

    func keyBudget(limit: Int64, period: BudgetPeriod = .month, enforcement: Budget.Enforcement = .strict,
                   action: Budget.Action = .block) -> Budget {
        Budget(id: "bud_k", scope: .key, scopeID: "key_a", org: "acme", limitNanos: limit, period: period,
               action: action, enforcement: enforcement)
    }

    let keyA = BudgetSubject.covering(org: "acme", team: "ml", keyID: "key_a")

    @Test("strict: admitted only while spent + reserved + worst case ≤ limit")
    func strict() throws {
        let clock = TestClock((2026, 11, 21, 10))
        let ledger = ledger([keyBudget(limit: 10 * dollar)], clock: clock)
        var held: [BudgetLedger.Reservation] = []
        for _ in 0..<10 { held.append(try #require(try ledger.reserve(keyA, worstCaseNanos: dollar))) }
        #expect(throws: BudgetLedger.Refusal.self) { try ledger.reserve(keyA, worstCaseNanos: 1) }
        #expect(ledger.account("bud_k")?.reservedNanos == 10 * dollar)
        // Settling below the worst case frees room.
        _ = ledger.settle(held.removeFirst(), costNanos: dollar / 2)
        #expect(throws: Never.self) { try ledger.reserve(keyA, worstCaseNanos: dollar / 2) }
        #expect(throws: BudgetLedger.Refusal.self) { try ledger.reserve(keyA, worstCaseNanos: 1) }
    }

    @Test("soft: admitted while spent + reserved < limit, so overspend ≤ one in-flight worst case per request")
    func soft() throws {
        let clock = TestClock((2026, 11, 21, 10))
        let ledger = ledger([keyBudget(limit: 10 * dollar, enforcement: .soft)], clock: clock)
        let first = try #require(try ledger.reserve(keyA, worstCaseNanos: 9 * dollar))
        let second = try #require(try ledger.reserve(keyA, worstCaseNanos: 9 * dollar))  // 9 < 10
        #expect(throws: BudgetLedger.Refusal.self) { try ledger.reserve(keyA, worstCaseNanos: 1) }  // 18 ≥ 10
        _ = ledger.settle(first, costNanos: 9 * dollar)
        _ = ledger.settle(second, costNanos: 9 * dollar)
        #expect(ledger.account("bud_k")?.spentNanos == 18 * dollar)
        #expect(ledger.account("bud_k")?.remainingNanos == 0)
    }

    @Test("40 concurrent clients against a budget of exactly 10 worst cases: 10 admitted, never overspent")
    func concurrent() async throws {
        let clock = TestClock((2026, 11, 21, 10))
        let worst: Int64 = 615_000
        let ledger = ledger([keyBudget(limit: 10 * worst)], clock: clock)
        let admitted = await withTaskGroup(of: BudgetLedger.Reservation?.self) { group in
            for _ in 0..<40 { group.addTask { try? ledger.reserve(self.keyA, worstCaseNanos: worst) } }
            var held: [BudgetLedger.Reservation] = []
            for await reservation in group { if let reservation { held.append(reservation) } }
            return held
        }
        #expect(admitted.count == 10)
        for reservation in admitted { _ = ledger.settle(reservation, costNanos: worst) }
        #expect(ledger.account("bud_k")?.spentNanos == 10 * worst)
        #expect(ledger.account("bud_k")?.reservedNanos == 0)
    }

    @Test("team and org budgets cover every key of the team / org; another team is not covered")
    func scopes() throws {
        let clock = TestClock((2026, 11, 21, 10))
        let team = Budget(id: "bud_t", scope: .team, scopeID: "ml", org: "acme", limitNanos: 2 * dollar, period: .day)
        let org = Budget(id: "bud_o", scope: .org, scopeID: "acme", org: "acme", limitNanos: 3 * dollar, period: .day)
        let ledger = ledger([team, org], clock: clock)
        let key1 = BudgetSubject.covering(org: "acme", team: "ml", keyID: "key_1")
        let key2 = BudgetSubject.covering(org: "acme", team: "ml", keyID: "key_2")
        let other = BudgetSubject.covering(org: "acme", team: "web", keyID: "key_3")
        let passthrough = BudgetSubject.covering(org: "acme", team: nil, keyID: "pt_0123")
        let a = try #require(try ledger.reserve(key1, worstCaseNanos: dollar))
        #expect(a.budgetIDs.sorted() == ["bud_o", "bud_t"])
        _ = try ledger.reserve(key2, worstCaseNanos: dollar)
        #expect(throws: BudgetLedger.Refusal.self) { try ledger.reserve(key1, worstCaseNanos: dollar) }  // team full
        _ = try ledger.reserve(other, worstCaseNanos: dollar)  // org has 1 left
        #expect(throws: BudgetLedger.Refusal.self) { try ledger.reserve(passthrough, worstCaseNanos: dollar) }  // org full
        #expect(try ledger.reserve(BudgetSubject.covering(org: "beta", team: "ml", keyID: "key_9"), worstCaseNanos: dollar) == nil)
        // A refusal reserves nothing anywhere.
        #expect(ledger.account("bud_t")?.reservedNanos == 2 * dollar)
        #expect(ledger.account("bud_o")?.reservedNanos == 3 * dollar)
    }

    @Test("action alert never refuses")
    func alertOnly() throws {
        let clock = TestClock((2026, 11, 21, 10))
        let ledger = ledger([keyBudget(limit: dollar, action: .alert)], clock: clock, spent: 5 * dollar)
        #expect(try ledger.reserve(keyA, worstCaseNanos: dollar) != nil)
    }

    @Test("period roll-over frees the budget (injected clock)")
    func rollOver() throws {
        let clock = TestClock((2026, 11, 30, 23))
        let ledger = ledger([keyBudget(limit: dollar)], clock: clock)
        let r = try #require(try ledger.reserve(keyA, worstCaseNanos: dollar))
        _ = ledger.settle(r, costNanos: dollar)
        #expect(throws: BudgetLedger.Refusal.self) { try ledger.reserve(keyA, worstCaseNanos: 1) }
        clock.set((2026, 12, 1, 0))
        let account = try #require(ledger.account("bud_k"))
        #expect(account.spentNanos == 0)
        #expect(account.periodStartMs == TestClock.ms((2026, 12, 1, 0)))
        #expect(try ledger.reserve(keyA, worstCaseNanos: dollar) != nil)
    }

    @Test("each threshold fires once per period, when spent reaches it")
    func thresholds() throws {
        let clock = TestClock((2026, 11, 1, 1))  // early in the month: no burn-rate alert
        let ledger = ledger([keyBudget(limit: 100 * dollar, action: .alert)], clock: clock)
        func spend(_ nanos: Int64) throws -> [Int64?] {
            let r = try #require(try ledger.reserve(keyA, worstCaseNanos: 0))
            return ledger.settle(r, costNanos: nanos).filter { $0.kind == .threshold }.map(\.thresholdBP)
        }
        #expect(try spend(49 * dollar) == [])
        #expect(try spend(1 * dollar) == [5000])  // exactly 50 %
        #expect(try spend(1 * dollar) == [])
        #expect(try spend(60 * dollar) == [8000, 10000])
        #expect(try spend(60 * dollar) == [])
        clock.set((2026, 12, 1, 1))
        #expect(try spend(50 * dollar) == [5000])
    }

    @Test("thresholds fired before a restart do not fire again")
    func firedSurvive() throws {
        let clock = TestClock((2026, 11, 1, 1))
        let start = TestClock.ms((2026, 11, 1, 0))
        let ledger = ledger(
            [keyBudget(limit: 100 * dollar, action: .alert)], clock: clock, spent: 60 * dollar, fired: ["bud_k|\(start)|threshold|5000"])
        let r = try #require(try ledger.reserve(keyA, worstCaseNanos: 0))
        let alerts = ledger.settle(r, costNanos: 30 * dollar).filter { $0.kind == .threshold }
        #expect(alerts.map(\.thresholdBP) == [8000])
    }

    @Test("burn rate: a pace that would pass the limit before the period ends fires once")
    func burnRate() throws {
        // 2026-11-04 00:00: 3 of 30 days gone (10 %).
        let clock = TestClock((2026, 11, 4, 0))
        let ledger = ledger([keyBudget(limit: 100 * dollar, action: .alert)], clock: clock)
        func spend(_ nanos: Int64) throws -> [BudgetAlert.Kind] {
            let r = try #require(try ledger.reserve(keyA, worstCaseNanos: 0))
            return ledger.settle(r, costNanos: nanos).map(\.kind)
        }
        #expect(try spend(10 * dollar) == [])  // 10 % spent in 10 % of the month: on pace
        #expect(try spend(1 * dollar) == [.burnRate])
        #expect(try spend(1 * dollar) == [])
    }

    @Test("reload keeps live counters of budgets whose period did not change")
    func reload() throws {
        let clock = TestClock((2026, 11, 21, 10))
        let ledger = ledger([keyBudget(limit: 10 * dollar)], clock: clock)
        let r = try #require(try ledger.reserve(keyA, worstCaseNanos: dollar))
        ledger.load([keyBudget(limit: 20 * dollar)], spentNanos: { _, _ in 0 }, fired: [])
        #expect(ledger.account("bud_k")?.reservedNanos == dollar)
        #expect(ledger.account("bud_k")?.budget.limitNanos == 20 * dollar)
        _ = ledger.settle(r, costNanos: dollar)
        ledger.load([], spentNanos: { _, _ in 0 }, fired: [])
        #expect(ledger.isEmpty)
    }
}
