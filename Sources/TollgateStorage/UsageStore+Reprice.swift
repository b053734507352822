import GRDB
import TollgateCore

/// `tollgate db reprice` (SPEC §6): recompute a period's money with the current pricing file.
extension UsageStore {
    /// What a reprice changed.
    package struct RepriceResult: Sendable, Equatable {
        package var examined = 0
        package var changed = 0
        package var costBeforeNanos: Int64 = 0
        package var costAfterNanos: Int64 = 0
        /// Per model: (events changed, cost before, cost after).
        package var byModel: [String: (events: Int, before: Int64, after: Int64)] = [:]

        package init() {}

        package static func == (a: RepriceResult, b: RepriceResult) -> Bool {
            a.examined == b.examined && a.changed == b.changed && a.costBeforeNanos == b.costBeforeNanos
                && a.costAfterNanos == b.costAfterNanos
        }
    }

    /// Re-prices every event in `[from, to)` with `price` (the event with its money fields and
    /// pricing version recomputed), writes the changed ones in small transactions, then rebuilds
    /// that range's rollups so every total, and budget spend, follows. `dryRun` only reports.
    package func reprice(
        from: Int64, to: Int64, dryRun: Bool = false, _ price: @Sendable (UsageEvent) -> UsageEvent
    ) async throws -> RepriceResult {
        var result = RepriceResult()
        var cursor: UsageEventCursor?
        repeat {
            let page = try await events(filter: StatsFilter(from: from, to: to), limit: 2000, after: cursor)
            var updates: [UsageEvent] = []
            for event in page.events {
                let repriced = price(event)
                result.examined += 1
                result.costBeforeNanos += event.costNanos
                result.costAfterNanos += repriced.costNanos
                guard repriced != event else { continue }
                result.changed += 1
                var model = result.byModel[event.model] ?? (0, 0, 0)
                model.events += 1
                model.before += event.costNanos
                model.after += repriced.costNanos
                result.byModel[event.model] = model
                updates.append(repriced)
            }
            if !dryRun, !updates.isEmpty {
                let batch = updates
                try await pool.write { db in
                    let statement = try db.cachedStatement(
                        sql: """
                            UPDATE usage_events SET cost_nanos = ?, potential_cost_nanos = ?, prompt_cache_savings_nanos = ?,
                                charged_nanos = ?, priced = ?, pricing_version = ? WHERE request_id = ?
                            """)
                    for e in batch {
                        try statement.execute(arguments: [
                            e.costNanos, e.potentialCostNanos, e.promptCacheSavingsNanos, e.chargedNanos, e.priced,
                            e.pricingVersion, e.requestID,
                        ])
                    }
                }
            }
            cursor = page.nextCursor
        } while cursor != nil
        if !dryRun, result.changed > 0 { try await rebuildRollups(from: from, to: to) }
        return result
    }
}
