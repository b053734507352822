import GRDB
import TollgateCore

/// A rollup row's counters are a `StatsSummary`: the same sums a stats query reads back.
extension StatsSummary {
    /// Counts one event in.
    mutating func add(_ event: UsageEvent) {
        requests += 1
        if event.outcome == .ok { okRequests += 1 }
        if event.isErrorRequest { errorRequests += 1 }
        if event.isBlockedRequest { blockedRequests += 1 }
        if event.cached { cachedRequests += 1 }
        if event.isUnpricedRequest { unpricedRequests += 1 }
        inputTokens += Int64(event.usage.inputTokens)
        outputTokens += Int64(event.usage.outputTokens)
        cachedInputTokens += Int64(event.usage.cachedInputTokens)
        cacheWriteTokens += Int64(event.usage.cacheWriteTokens)
        reasoningTokens += Int64(event.usage.reasoningTokens)
        costNanos += event.costNanos
        potentialCostNanos += event.potentialCostNanos
        promptCacheSavingsNanos += event.promptCacheSavingsNanos
        chargedNanos += event.chargedNanos
        latencyMicrosSum += event.latencyMicros
        latencyHistogram.add(event.storedLatencyMs)
    }

    /// Binds the values of `UsageSQL.upsertRollup`: the key columns of `detail`, the counters in
    /// `rollupCounterColumns` order, then the histogram.
    func bindUpsert(key: RollupKey, detail: RollupDetail, to statement: inout RawStatement) throws {
        try statement.bind(key.bucketStart)
        for dimension in detail.dimensions {
            try statement.bind(key[dimension])
        }
        try bindCounters(to: &statement)
    }

    /// Binds the values of a tag rollup upsert: `TagRollupTable.keyColumns`, then as above.
    func bindUpsert(key: TagRollupKey, to statement: inout RawStatement) throws {
        try statement.bind(key.tag)
        try statement.bind(key.bucketStart)
        try statement.bind(key.org)
        try statement.bind(key.kind.rawValue)
        try statement.bind(key.value)
        try bindCounters(to: &statement)
    }

    /// The counters in `rollupCounterColumns` order, then the histogram.
    private func bindCounters(to statement: inout RawStatement) throws {
        for counter in [
            requests, okRequests, errorRequests, blockedRequests, cachedRequests, unpricedRequests,
            inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens, reasoningTokens,
            costNanos, potentialCostNanos, promptCacheSavingsNanos, chargedNanos, latencyMicrosSum,
        ] {
            try statement.bind(counter)
        }
        try statement.bind(latencyHistogram.encoded)
    }
}
