import Synchronization

/// Budget enforcement by reservation (SPEC §7), in memory, safe under any concurrency.
///
/// Before a request is forwarded, `reserve` checks every budget covering it and, only if all
/// admit it, adds its worst-case cost to their `reserved`. When it ends, `settle` moves the actual
/// cost into `spent` and releases the reservation. Both run under one lock, so parallel requests
/// see each other's reservations: with `strict` a request is admitted only if
/// spent + reserved + its worst case ≤ limit (no overspend at all); with `soft` while
/// spent + reserved < limit (overspend bounded by what is in flight). `action: alert` budgets
/// track and alert but never refuse.
///
/// The clock is passed in, so period roll-over (day, week, month, UTC) is testable: the first
/// reserve or settle in a new period starts the budget from zero. The database stays the source
/// of truth across restarts: `load` seeds each budget with the spend its rollups show.
package final class BudgetLedger: Sendable {
    /// One budget's live state.
    package struct Account: Sendable, Equatable {
        package var budget: Budget
        package var periodStartMs: Int64
        package var spentNanos: Int64
        package var reservedNanos: Int64
        /// Dedupe keys of the alerts already fired (see `BudgetAlert.dedupeKey`).
        package var fired: Set<String>

        package init(budget: Budget, periodStartMs: Int64, spentNanos: Int64, reservedNanos: Int64, fired: Set<String> = []) {
            self.budget = budget
            self.periodStartMs = periodStartMs
            self.spentNanos = spentNanos
            self.reservedNanos = reservedNanos
            self.fired = fired
        }

        package var periodEndMs: Int64? { budget.period.end(startingAt: periodStartMs) }
        package var remainingNanos: Int64 { max(0, budget.limitNanos.saturatingSubtract(spentNanos).saturatingSubtract(reservedNanos)) }
    }

    /// What a request holds between `reserve` and `settle`.
    package struct Reservation: Sendable, Equatable {
        package var budgetIDs: [String]
        package var worstCaseNanos: Int64
    }

    /// A refused reservation: the budget that said no, as it stood.
    package struct Refusal: Error, Sendable, Equatable {
        package var account: Account
        package var worstCaseNanos: Int64

        package var message: String {
            let b = account.budget
            let scope = b.scope == .org ? "org \(b.org)" : "\(b.scope.rawValue) \(b.scopeID) in org \(b.org)"
            var text = "Budget \(b.id) (\(scope), \(b.period.rawValue)) has no room for this request: spent $\(Money.decimalString(account.spentNanos))"
            if account.reservedNanos > 0 { text += " + $\(Money.decimalString(account.reservedNanos)) in flight" }
            text += " of $\(Money.decimalString(b.limitNanos))"
            if b.enforcement == .strict { text += "; this request may cost up to $\(Money.decimalString(worstCaseNanos))" }
            text += ". "
            if let end = account.periodEndMs {
                text += "It resets at \(UTCTime.iso(end)); ask your admin to raise the limit, or lower max_tokens."
            } else {
                text += "Ask your admin to raise the limit, or lower max_tokens."
            }
            return text
        }
    }

    private struct State {
        var accounts: [String: Account] = [:]
        var index: [BudgetSubject: [String]] = [:]

        mutating func reindex() {
            index = [:]
            for (id, account) in accounts { index[account.budget.subject, default: []].append(id) }
        }
    }

    private let state = Mutex(State())
    /// Unix milliseconds now.
    package let clock: @Sendable () -> Int64

    package init(clock: @escaping @Sendable () -> Int64) {
        self.clock = clock
    }

    /// Replaces every budget definition. A budget already held keeps its live counters while its
    /// period has not changed (they are newer than the database, which lags by a flush); a new one
    /// starts from `spentNanos(budget, periodStart)` and the alerts already fired.
    package func load(_ budgets: [Budget], spentNanos: (Budget, Int64) -> Int64, fired: Set<String>) {
        let now = clock()
        let fresh = budgets.map { budget -> (Budget, Int64, Int64) in
            let start = budget.period.start(containing: now)
            return (budget, start, spentNanos(budget, start))
        }
        state.withLock { state in
            var accounts: [String: Account] = [:]
            for (budget, start, spent) in fresh {
                if var held = state.accounts[budget.id], held.periodStartMs == start {
                    held.budget = budget
                    accounts[budget.id] = held
                } else {
                    let marks = fired.filter { $0.hasPrefix(budget.id + "|\(start)|") }
                    accounts[budget.id] = Account(
                        budget: budget, periodStartMs: start, spentNanos: spent, reservedNanos: 0, fired: marks)
                }
            }
            state.accounts = accounts
            state.reindex()
        }
    }

    /// Whether any budget exists (the proxy skips the ledger entirely when none does).
    package var isEmpty: Bool { state.withLock { $0.accounts.isEmpty } }

    /// The live state of a budget, rolled into the current period.
    package func account(_ id: String) -> Account? {
        let now = clock()
        return state.withLock { state in
            guard var account = state.accounts[id] else { return nil }
            Self.roll(&account, now: now)
            return account
        }
    }

    /// Every budget's live state, rolled into the current period (read by `/metrics` at scrape time).
    package var accounts: [Account] {
        let now = clock()
        return state.withLock { state in
            state.accounts.values.map { account in
                var account = account
                Self.roll(&account, now: now)
                return account
            }
        }
    }

    /// Reserves `worstCaseNanos` on every budget covering `subjects`, or refuses without reserving
    /// anything. Nil when no budget covers the request.
    package func reserve(_ subjects: [BudgetSubject], worstCaseNanos: Int64) throws(Refusal) -> Reservation? {
        let now = clock()
        let worst = max(0, worstCaseNanos)
        let result: Result<Reservation?, Refusal> = state.withLock { state in
            var ids: [String] = []
            for subject in subjects { ids += state.index[subject] ?? [] }
            guard !ids.isEmpty else { return .success(nil) }
            for id in ids {
                Self.roll(&state.accounts[id]!, now: now)
                let account = state.accounts[id]!
                guard account.budget.action == .block else { continue }
                let committed = account.spentNanos.saturatingAdd(account.reservedNanos)
                let admitted = switch account.budget.enforcement {
                case .strict: committed.saturatingAdd(worst) <= account.budget.limitNanos
                case .soft: committed < account.budget.limitNanos
                }
                if !admitted { return .failure(Refusal(account: account, worstCaseNanos: worst)) }
            }
            for id in ids { state.accounts[id]!.reservedNanos = state.accounts[id]!.reservedNanos.saturatingAdd(worst) }
            return .success(Reservation(budgetIDs: ids, worstCaseNanos: worst))
        }
        return try result.get()
    }

    /// Releases `reservation` and adds the actual cost; returns the alerts this crossed.
    package func settle(_ reservation: Reservation, costNanos: Int64) -> [BudgetAlert] {
        let now = clock()
        return state.withLock { state in
            var alerts: [BudgetAlert] = []
            for id in reservation.budgetIDs {
                guard var account = state.accounts[id] else { continue }
                Self.roll(&account, now: now)
                account.reservedNanos = max(0, account.reservedNanos.saturatingSubtract(reservation.worstCaseNanos))
                account.spentNanos = account.spentNanos.saturatingAdd(max(0, costNanos))
                alerts += Self.crossed(&account, now: now)
                state.accounts[id] = account
            }
            return alerts
        }
    }

    /// Starts a new period when `now` is past the account's.
    private static func roll(_ account: inout Account, now: Int64) {
        let start = account.budget.period.start(containing: now)
        guard start != account.periodStartMs else { return }
        account.periodStartMs = start
        account.spentNanos = 0
        account.fired = []
    }

    /// Thresholds reached (spent ≥ threshold × limit) and the burn-rate projection, each once.
    private static func crossed(_ account: inout Account, now: Int64) -> [BudgetAlert] {
        let budget = account.budget
        let spent = Int128(account.spentNanos)
        let limit = Int128(budget.limitNanos)
        var alerts: [BudgetAlert] = []
        func fire(_ kind: BudgetAlert.Kind, _ bp: Int64?, _ message: String) {
            let alert = BudgetAlert(
                kind: kind, budget: budget, thresholdBP: bp, periodStartMs: account.periodStartMs,
                periodEndMs: account.periodEndMs, spentNanos: account.spentNanos, firedAtMs: now, message: message)
            guard account.fired.insert(alert.dedupeKey).inserted else { return }
            alerts.append(alert)
        }
        let scope = budget.scope == .org ? "org \(budget.org)" : "\(budget.scope.rawValue) \(budget.scopeID) (org \(budget.org))"
        let spentText = "$\(Money.decimalString(account.spentNanos)) of $\(Money.decimalString(budget.limitNanos))"
        for bp in budget.thresholds where spent * 10_000 >= limit * Int128(bp) {
            fire(.threshold, bp, "Tollgate budget \(budget.id) for \(scope): \(spentText) spent this \(budget.period.rawValue), past the \(Money.decimalString(bp * 10_000_000))% threshold.")
        }
        // Burn rate: once a tenth of the period has passed, a pace that would spend more than the
        // limit by the period's end fires (before the limit itself is reached).
        if let end = account.periodEndMs, spent < limit {
            let length = Int128(end - account.periodStartMs)
            let elapsed = Int128(now - account.periodStartMs)
            if elapsed * 10 >= length, spent * length > limit * elapsed {
                fire(.burnRate, nil, "Tollgate budget \(budget.id) for \(scope): \(spentText) spent; at this pace it runs out before \(UTCTime.iso(end)).")
            }
        }
        return alerts
    }
}
