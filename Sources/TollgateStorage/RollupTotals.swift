import GRDB
import TollgateCore

/// A rollup row's key; a missing team or user is ''.
struct RollupKey: Hashable {
    var bucketStart: Int64
    var org: String
    var keyID: String
    var team: String
    var user: String
    var provider: String
    var model: String

    init(bucketStart: Int64, event: UsageEvent) {
        self.bucketStart = bucketStart
        org = event.org
        keyID = event.keyID
        team = event.team ?? ""
        user = event.user ?? ""
        provider = event.provider
        model = event.model
    }
}

/// A rollup row's counters.
struct RollupTotals {
    var requests: Int64 = 0
    var okRequests: Int64 = 0
    var errorRequests: Int64 = 0
    var blockedRequests: Int64 = 0
    var cachedRequests: Int64 = 0
    var unpricedRequests: Int64 = 0
    var inputTokens: Int64 = 0
    var outputTokens: Int64 = 0
    var cachedInputTokens: Int64 = 0
    var cacheWriteTokens: Int64 = 0
    var reasoningTokens: Int64 = 0
    var costNanos: Int64 = 0
    var potentialCostNanos: Int64 = 0
    var promptCacheSavingsNanos: Int64 = 0
    var chargedNanos: Int64 = 0
    var latencyMicrosSum: Int64 = 0
    var histogram = LatencyHistogram()

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
        histogram.add(event.storedLatencyMs)
    }

    mutating func merge(_ other: RollupTotals) {
        requests += other.requests
        okRequests += other.okRequests
        errorRequests += other.errorRequests
        blockedRequests += other.blockedRequests
        cachedRequests += other.cachedRequests
        unpricedRequests += other.unpricedRequests
        inputTokens += other.inputTokens
        outputTokens += other.outputTokens
        cachedInputTokens += other.cachedInputTokens
        cacheWriteTokens += other.cacheWriteTokens
        reasoningTokens += other.reasoningTokens
        costNanos += other.costNanos
        potentialCostNanos += other.potentialCostNanos
        promptCacheSavingsNanos += other.promptCacheSavingsNanos
        chargedNanos += other.chargedNanos
        latencyMicrosSum += other.latencyMicrosSum
        histogram.merge(other.histogram)
    }

    /// Binds the values of `UsageSQL.upsertRollup`: the key, the counters in
    /// `rollupCounterColumns` order, then the histogram.
    func bindUpsert(key: RollupKey, to statement: inout RawStatement) throws {
        try statement.bind(key.bucketStart)
        try statement.bind(key.org)
        try statement.bind(key.keyID)
        try statement.bind(key.team)
        try statement.bind(key.user)
        try statement.bind(key.provider)
        try statement.bind(key.model)
        for counter in [
            requests, okRequests, errorRequests, blockedRequests, cachedRequests, unpricedRequests,
            inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens, reasoningTokens,
            costNanos, potentialCostNanos, promptCacheSavingsNanos, chargedNanos, latencyMicrosSum,
        ] {
            try statement.bind(counter)
        }
        try statement.bind(histogram.encoded)
    }
}
