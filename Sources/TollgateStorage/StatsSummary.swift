import GRDB

/// Totals over a set of requests (SPEC §9 `GET /admin/stats`), exact to the last nano-dollar.
///
/// Money and token sums are SQLite INTEGER sums of the per-request figures; latency percentiles come
/// from the merged `LatencyHistogram` (within 2.47 %, see there). Derived figures (`cache_hit_rate`,
/// `savings_usd`, USD conversion) are the server's to compute from these.
package struct StatsSummary: Sendable, Equatable {
    package var requests: Int64 = 0
    package var okRequests: Int64 = 0
    package var errorRequests: Int64 = 0
    package var blockedRequests: Int64 = 0
    package var cachedRequests: Int64 = 0
    package var unpricedRequests: Int64 = 0
    package var inputTokens: Int64 = 0
    package var outputTokens: Int64 = 0
    package var cachedInputTokens: Int64 = 0
    package var cacheWriteTokens: Int64 = 0
    package var reasoningTokens: Int64 = 0
    package var costNanos: Int64 = 0
    package var potentialCostNanos: Int64 = 0
    package var promptCacheSavingsNanos: Int64 = 0
    package var chargedNanos: Int64 = 0
    /// Sum of each request's latency rounded to whole microseconds.
    package var latencyMicrosSum: Int64 = 0
    package var latencyHistogram = LatencyHistogram()

    package init() {}

    /// Mean latency in milliseconds, nil with no requests.
    package var averageLatencyMs: Double? {
        requests > 0 ? Double(latencyMicrosSum) / Double(requests) / 1000 : nil
    }

    package var p50LatencyMs: Double? { latencyHistogram.percentileMs(0.50) }
    package var p95LatencyMs: Double? { latencyHistogram.percentileMs(0.95) }
    package var p99LatencyMs: Double? { latencyHistogram.percentileMs(0.99) }

    /// Adds another summary's requests to this one.
    package mutating func merge(_ other: StatsSummary) {
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
        latencyHistogram.merge(other.latencyHistogram)
    }

    /// Takes out the requests of `other`, a subset of this summary's requests.
    mutating func subtract(_ other: StatsSummary) {
        requests -= other.requests
        okRequests -= other.okRequests
        errorRequests -= other.errorRequests
        blockedRequests -= other.blockedRequests
        cachedRequests -= other.cachedRequests
        unpricedRequests -= other.unpricedRequests
        inputTokens -= other.inputTokens
        outputTokens -= other.outputTokens
        cachedInputTokens -= other.cachedInputTokens
        cacheWriteTokens -= other.cacheWriteTokens
        reasoningTokens -= other.reasoningTokens
        costNanos -= other.costNanos
        potentialCostNanos -= other.potentialCostNanos
        promptCacheSavingsNanos -= other.promptCacheSavingsNanos
        chargedNanos -= other.chargedNanos
        latencyMicrosSum -= other.latencyMicrosSum
        latencyHistogram.subtract(other.latencyHistogram)
    }

    /// Reads the columns of `UsageSQL.rawSummaryColumns` / `rollupSummaryColumns`, starting at `offset`.
    init(row: Row, offset: Int = 0) throws {
        requests = row[offset]
        okRequests = row[offset + 1]
        errorRequests = row[offset + 2]
        blockedRequests = row[offset + 3]
        cachedRequests = row[offset + 4]
        unpricedRequests = row[offset + 5]
        inputTokens = row[offset + 6]
        outputTokens = row[offset + 7]
        cachedInputTokens = row[offset + 8]
        cacheWriteTokens = row[offset + 9]
        reasoningTokens = row[offset + 10]
        costNanos = row[offset + 11]
        potentialCostNanos = row[offset + 12]
        promptCacheSavingsNanos = row[offset + 13]
        chargedNanos = row[offset + 14]
        latencyMicrosSum = row[offset + 15]
        latencyHistogram = try LatencyHistogram(databaseValue: row[offset + 16])
    }

    /// Number of columns `init(row:offset:)` reads.
    static let columnCount = 17
}
