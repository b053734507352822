import TollgateCore
import TollgateStorage

/// The summary fields of SPEC §9, defined once: `/admin/stats`, each timeseries bucket and
/// breakdown group, the dashboard's cards and `tollgate stats` all show these values.
package struct SummaryFields: Codable, Sendable, Equatable {
    package var requests: Int64
    package var okRequests: Int64
    package var errorRequests: Int64
    package var blockedRequests: Int64
    package var cachedRequests: Int64
    package var cacheHitRate: Double
    /// ok ÷ requests, 0–1.
    package var successRate: Double
    package var inputTokens: Int64
    package var outputTokens: Int64
    package var totalTokens: Int64
    package var cachedInputTokens: Int64
    package var cacheWriteTokens: Int64
    package var reasoningTokens: Int64
    package var costUSD: Money
    /// cost ÷ requests, rounded half away from zero to the nano-dollar.
    package var avgCostPerRequestUSD: Money
    package var potentialCostUSD: Money
    package var savingsUSD: Money
    package var savingsPct: Double
    package var promptCacheSavingsUSD: Money
    package var chargedUSD: Money
    package var profitUSD: Money
    package var avgLatencyMs: Double
    package var p50LatencyMs: Double
    package var p95LatencyMs: Double
    package var p99LatencyMs: Double
    package var unpricedRequests: Int64
    /// Distinct users with requests in the range (or bucket, or group): counted over it, never
    /// summed; null where no rollup keeps users with the query's dimensions (`UsageStore.activeUsers`).
    @Nullable package var activeUsers: Int64?
    /// Requests with feedback (`POST /tollgate/v1/feedback`), and their mean rating (null: none rated).
    package var feedbackCount: Int64
    @Nullable package var avgRating: Double?

    enum CodingKeys: String, CodingKey {
        case requests, okRequests = "ok_requests", errorRequests = "error_requests", blockedRequests = "blocked_requests"
        case cachedRequests = "cached_requests", cacheHitRate = "cache_hit_rate", successRate = "success_rate"
        case inputTokens = "input_tokens", outputTokens = "output_tokens", totalTokens = "total_tokens"
        case avgCostPerRequestUSD = "avg_cost_per_request_usd", cachedInputTokens = "cached_input_tokens", cacheWriteTokens = "cache_write_tokens"
        case reasoningTokens = "reasoning_tokens", costUSD = "cost_usd", potentialCostUSD = "potential_cost_usd"
        case savingsUSD = "savings_usd", savingsPct = "savings_pct", promptCacheSavingsUSD = "prompt_cache_savings_usd"
        case chargedUSD = "charged_usd", profitUSD = "profit_usd", avgLatencyMs = "avg_latency_ms", p50LatencyMs = "p50_latency_ms"
        case p95LatencyMs = "p95_latency_ms", p99LatencyMs = "p99_latency_ms", unpricedRequests = "unpriced_requests"
        case activeUsers = "active_users", feedbackCount = "feedback_count", avgRating = "avg_rating"
    }

    /// The figures of `s`; derived ones (rates, savings, profit) computed here and nowhere else.
    package init(_ s: StatsSummary, activeUsers: Int64?, feedback: FeedbackTotals) {
        self.activeUsers = activeUsers
        feedbackCount = feedback.count
        avgRating = feedback.rated > 0 ? Rounded.value(Double(feedback.ratingSum) / Double(feedback.rated), digits: 2) : nil
        requests = s.requests
        okRequests = s.okRequests
        errorRequests = s.errorRequests
        blockedRequests = s.blockedRequests
        cachedRequests = s.cachedRequests
        cacheHitRate = Rounded.value(s.requests > 0 ? Double(s.cachedRequests) / Double(s.requests) : 0, digits: 4)
        successRate = Rounded.value(s.requests > 0 ? Double(s.okRequests) / Double(s.requests) : 0, digits: 4)
        inputTokens = s.inputTokens
        outputTokens = s.outputTokens
        totalTokens = s.inputTokens + s.outputTokens
        cachedInputTokens = s.cachedInputTokens
        cacheWriteTokens = s.cacheWriteTokens
        reasoningTokens = s.reasoningTokens
        costUSD = Money(nanos: s.costNanos)
        avgCostPerRequestUSD = Money(nanos: s.requests > 0 ? CostCalculator.roundedDivision(s.costNanos, by: s.requests) : 0)
        potentialCostUSD = Money(nanos: s.potentialCostNanos)
        savingsUSD = Money(nanos: s.potentialCostNanos - s.costNanos)
        savingsPct = Rounded.value(s.potentialCostNanos > 0 ? Double(savingsUSD.nanos) * 100 / Double(s.potentialCostNanos) : 0, digits: 2)
        promptCacheSavingsUSD = Money(nanos: s.promptCacheSavingsNanos)
        chargedUSD = Money(nanos: s.chargedNanos)
        profitUSD = Money(nanos: s.chargedNanos - s.costNanos)
        avgLatencyMs = Rounded.value(s.averageLatencyMs ?? 0, digits: 3)
        p50LatencyMs = Rounded.value(s.p50LatencyMs ?? 0, digits: 3)
        p95LatencyMs = Rounded.value(s.p95LatencyMs ?? 0, digits: 3)
        p99LatencyMs = Rounded.value(s.p99LatencyMs ?? 0, digits: 3)
        unpricedRequests = s.unpricedRequests
    }
}

/// Ratios and latencies as the API shows them: rounded to a few decimals, 0 for a non-finite value.
enum Rounded {
    static func value(_ value: Double, digits: Int) -> Double {
        guard value.isFinite else { return 0 }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return (value * scale).rounded() / scale
    }
}

/// The summary over a time range: the summary fields with `from` and `to` (ISO-8601).
package struct PeriodSummary: Codable, Sendable, Equatable {
    package var fields: SummaryFields
    package var from: String
    package var to: String

    enum CodingKeys: String, CodingKey { case from, to }

    init(_ summary: StatsSummary, activeUsers: Int64?, feedback: FeedbackTotals, range: (fromMs: Int64, toMs: Int64)) {
        self.fields = SummaryFields(summary, activeUsers: activeUsers, feedback: feedback)
        self.from = UTCTime.iso(range.fromMs)
        self.to = UTCTime.iso(range.toMs)
    }

    package init(from decoder: any Decoder) throws {
        fields = try SummaryFields(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        from = try container.decode(String.self, forKey: .from)
        to = try container.decode(String.self, forKey: .to)
    }

    package func encode(to encoder: any Encoder) throws {
        try fields.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
    }
}

/// `GET /admin/stats`: the period's summary; with `compare=previous`, the previous period and the
/// change in percent (null where the previous period had none).
package struct SummaryAnswer: Codable, Sendable, Equatable {
    package var period: PeriodSummary
    package var previous: PeriodSummary?
    package var changePct: Change?

    package struct Change: Codable, Sendable, Equatable {
        @Nullable package var requests: Double?
        @Nullable package var costUSD: Double?
        @Nullable package var inputTokens: Double?
        @Nullable package var outputTokens: Double?

        enum CodingKeys: String, CodingKey {
            case requests, costUSD = "cost_usd", inputTokens = "input_tokens", outputTokens = "output_tokens"
        }

        init(now: StatsSummary, before: StatsSummary) {
            func change(_ now: Int64, _ before: Int64) -> Double? {
                before > 0 ? Rounded.value(Double(now - before) * 100 / Double(before), digits: 2) : nil
            }
            requests = change(now.requests, before.requests)
            costUSD = change(now.costNanos, before.costNanos)
            inputTokens = change(now.inputTokens, before.inputTokens)
            outputTokens = change(now.outputTokens, before.outputTokens)
        }
    }

    enum CodingKeys: String, CodingKey { case previous, changePct = "change_pct" }

    init(period: PeriodSummary, previous: PeriodSummary? = nil, changePct: Change? = nil) {
        (self.period, self.previous, self.changePct) = (period, previous, changePct)
    }

    package init(from decoder: any Decoder) throws {
        period = try PeriodSummary(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        previous = try container.decodeIfPresent(PeriodSummary.self, forKey: .previous)
        changePct = try container.decodeIfPresent(Change.self, forKey: .changePct)
    }

    package func encode(to encoder: any Encoder) throws {
        try period.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(previous, forKey: .previous)
        try container.encodeIfPresent(changePct, forKey: .changePct)
    }
}

/// One row of a timeseries or breakdown: its bucket start and group (null where the answer has
/// none) with the summary fields.
package struct GroupSummary: Codable, Sendable, Equatable {
    /// The bucket's start (ISO-8601); timeseries only.
    package var bucket: String?
    @Nullable package var group: String?
    package var fields: SummaryFields

    enum CodingKeys: String, CodingKey { case bucket, group }

    init(bucket: String?, group: String?, _ summary: StatsSummary, activeUsers: Int64?, feedback: FeedbackTotals) {
        self.bucket = bucket
        self.group = group
        self.fields = SummaryFields(summary, activeUsers: activeUsers, feedback: feedback)
    }

    package init(from decoder: any Decoder) throws {
        fields = try SummaryFields(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        bucket = try container.decodeIfPresent(String.self, forKey: .bucket)
        _group = try container.decode(Nullable<String>.self, forKey: .group)
    }

    package func encode(to encoder: any Encoder) throws {
        try fields.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(bucket, forKey: .bucket)
        try container.encode(_group, forKey: .group)
    }
}

/// `GET /admin/stats/timeseries`.
package struct TimeseriesAnswer: Codable, Sendable, Equatable {
    package var granularity: TimeseriesGranularity
    /// The zone of the buckets (`UTC` unless `tz` said otherwise); each `bucket` is its local start.
    package var tz: String
    @Nullable package var groupBy: StatsDimension?
    /// Only buckets with traffic, oldest first.
    package var data: [GroupSummary]
    package var from: String
    package var to: String

    enum CodingKeys: String, CodingKey { case granularity, tz, groupBy = "group_by", data, from, to }
}

/// `GET /admin/stats/breakdown`: the biggest groups and the average over all of them, so one
/// group can be compared with the rest.
package struct BreakdownAnswer: Codable, Sendable, Equatable {
    package var by: StatsDimension
    package var order: BreakdownOrder
    /// Groups with traffic in all (`data` holds at most `limit` of them).
    package var groups: Int
    package var data: [GroupSummary]
    package var average: Average
    package var from: String
    package var to: String

    package struct Average: Codable, Sendable, Equatable {
        package var requests: Double
        package var inputTokens: Double
        package var outputTokens: Double
        package var costUSD: Money

        enum CodingKeys: String, CodingKey { case requests, inputTokens = "input_tokens", outputTokens = "output_tokens", costUSD = "cost_usd" }
    }
}

/// `GET /admin/stats/forecast`; the projection is absent when the history has too few days.
package struct ForecastAnswer: Codable, Sendable, Equatable {
    package var method: String
    package var historyDays: Int
    package var historyFrom: String
    package var historyTo: String
    package var historyCostUSD: Money
    package var trendUSDPerDay: Double?
    package var next30DaysUSD: Money?
    package var next30DaysLowUSD: Money?
    package var next30DaysHighUSD: Money?
    package var next90DaysUSD: Money?
    package var next90DaysLowUSD: Money?
    package var next90DaysHighUSD: Money?
    package var confidence: Double?

    enum CodingKeys: String, CodingKey {
        case method, historyDays = "history_days", historyFrom = "history_from", historyTo = "history_to"
        case historyCostUSD = "history_cost_usd", trendUSDPerDay = "trend_usd_per_day"
        case next30DaysUSD = "next_30_days_usd", next30DaysLowUSD = "next_30_days_low_usd", next30DaysHighUSD = "next_30_days_high_usd"
        case next90DaysUSD = "next_90_days_usd", next90DaysLowUSD = "next_90_days_low_usd", next90DaysHighUSD = "next_90_days_high_usd"
        case confidence
    }
}

/// `GET /admin/stats/errors` (SPEC §13): the failed and refused requests of the range, grouped.
package struct ErrorsAnswer: Codable, Sendable, Equatable {
    /// Every request in the range, and those that did not end `ok` (errors and refusals).
    package var requests: Int64
    package var failedRequests: Int64
    /// failed ÷ requests, 0–1.
    package var errorRate: Double
    /// How many groups there are in all (`data` holds at most `limit`).
    package var groups: Int
    /// Most frequent first.
    package var data: [Group]
    package var from: String
    package var to: String

    package struct Group: Codable, Sendable, Equatable {
        package var outcome: String
        package var status: Int
        package var provider: String
        package var model: String
        package var requests: Int64
        /// This group's part of the failed requests, 0–1.
        package var share: Double
        /// When the most recent of them started (null once retention deleted their raw events).
        @Nullable package var latestAt: String?
        /// The most recent request's error message (null when it had none).
        @Nullable package var latestError: String?

        enum CodingKeys: String, CodingKey {
            case outcome, status, provider, model, requests, share, latestAt = "latest_at", latestError = "latest_error"
        }
    }

    enum CodingKeys: String, CodingKey {
        case requests, failedRequests = "failed_requests", errorRate = "error_rate", groups, data, from, to
    }
}
