import Foundation
import TollgateCore
import TollgateStorage

/// The stats answers of SPEC §9 — summary, timeseries, breakdown, forecast, raw usage, export —
/// typed queries in, typed answers out, shared by the admin API, the dashboard and `tollgate
/// stats` / `tollgate export`. Every query is held to the caller's org (an org admin sees only its own).
package struct AdminStats: Sendable {
    let store: UsageStore
    let feedback: FeedbackStore
    let clock: @Sendable () -> Int64

    package init(database: TollgateDatabase, clock: @escaping @Sendable () -> Int64 = AccessControl.systemClock) {
        self.store = UsageStore(database: database)
        self.feedback = FeedbackStore(database: database)
        self.clock = clock
    }

    private var now: Date { Date(timeIntervalSince1970: Double(clock()) / 1000) }

    /// `GET /admin/stats`, served from the rollups.
    package func summary(_ query: SummaryQuery, by principal: AdminPrincipal) async throws -> SummaryAnswer {
        let range = try query.filters.range(now: now)
        let filter = try query.filters.filter(range, by: principal)
        async let users = store.activeUsers(filter: filter)
        async let rated = feedback.totals(filter: filter)
        let summary = try await store.summary(filter: filter)
        var answer = SummaryAnswer(
            period: PeriodSummary(
                summary, activeUsers: try await users.map { $0.values.first ?? 0 }, feedback: try await rated.values.first ?? FeedbackTotals(), range: range))
        if query.compareWithPrevious {
            let previousRange = (fromMs: range.fromMs - (range.toMs - range.fromMs), toMs: range.fromMs)
            guard previousRange.fromMs >= TimeRange.earliestMs else {
                throw InvalidQuery("'compare=previous' would reach back to before the year 1583; give a later 'from' or a shorter range.")
            }
            let previousFilter = try query.filters.filter(previousRange, by: principal)
            async let previousUsers = store.activeUsers(filter: previousFilter)
            async let previousRated = feedback.totals(filter: previousFilter)
            let previous = try await store.summary(filter: previousFilter)
            answer.previous = PeriodSummary(
                previous, activeUsers: try await previousUsers.map { $0.values.first ?? 0 },
                feedback: try await previousRated.values.first ?? FeedbackTotals(), range: previousRange)
            answer.changePct = SummaryAnswer.Change(now: summary, before: previous)
        }
        return answer
    }

    /// `GET /admin/stats/timeseries`: one row per bucket (and group) with traffic. Hours and UTC
    /// days come straight from the rollups; weeks, months and days in another zone are summed
    /// from them (`TimeseriesBuckets`).
    package func timeseries(_ query: TimeseriesQuery, by principal: AdminPrincipal) async throws -> TimeseriesAnswer {
        let range = try query.filters.range(now: now)
        let filter = try query.filters.filter(range, by: principal)
        let buckets = try TimeseriesBuckets(
            granularity: query.granularity, timeZone: try query.filters.timeZone(), named: query.filters.tz ?? "UTC", range: range)
        let groupBy = query.groupBy.map { [$0] } ?? []
        let (source, rebucket) = (buckets.source, buckets.rebucket)
        async let users = store.activeUsers(filter: filter, groupBy: groupBy, granularity: source, rebucket: rebucket)
        async let rated = feedback.totals(filter: filter, groupBy: groupBy, granularity: source, rebucket: rebucket)
        let rows = try await store.summaries(filter: filter, groupBy: groupBy, granularity: buckets.source)
        if buckets.needsHourlyRollups, query.granularity != .hour {
            // Hourly rollups go after retention.hourly_days: a range older than that would sum short.
            let total = try await store.summary(filter: filter)
            guard rows.reduce(0, { $0 + $1.summary.requests }) == total.requests else {
                throw InvalidQuery("Buckets in time zone '\(buckets.zoneName)' are summed from hourly rollups, which are kept for retention.hourly_days; this range starts before the oldest of them. Give a later 'from', or tz=UTC (daily rollups).")
            }
        }
        let (activeUsers, feedbackTotals) = (try await users, try await rated)
        return TimeseriesAnswer(
            granularity: query.granularity, tz: buckets.zoneName, groupBy: query.groupBy,
            data: buckets.merge(rows, rebucket: rebucket).map { row in
                let key = StatsGroupKey(bucketStart: row.bucketStart, values: row.values)
                return GroupSummary(
                    bucket: buckets.label(row.bucketStart), group: query.groupBy == nil ? nil : row.values.first ?? nil, row.summary,
                    activeUsers: activeUsers.map { $0[key] ?? 0 }, feedback: feedbackTotals[key] ?? FeedbackTotals())
            },
            from: UTCTime.iso(range.fromMs), to: UTCTime.iso(range.toMs))
    }

    /// `GET /admin/stats/breakdown`: groups biggest first (ties by name), at most `limit`.
    package func breakdown(_ query: BreakdownQuery, by principal: AdminPrincipal) async throws -> BreakdownAnswer {
        let range = try query.filters.range(now: now)
        let filter = try query.filters.filter(range, by: principal)
        async let users = store.activeUsers(filter: filter, groupBy: [query.by])
        async let rated = feedback.totals(filter: filter, groupBy: [query.by])
        let rows = try await store.summaries(filter: filter, groupBy: [query.by]).sorted { a, b in
            let (x, y) = (query.order.metric(a.summary), query.order.metric(b.summary))
            return x != y ? x > y : (a.values.first.flatMap { $0 } ?? "") < (b.values.first.flatMap { $0 } ?? "")
        }
        var total = StatsSummary()
        for row in rows { total.merge(row.summary) }
        let (activeUsers, feedbackTotals) = (try await users, try await rated)
        let n = Int64(max(rows.count, 1))
        let average = BreakdownAnswer.Average(
            requests: Rounded.value(Double(total.requests) / Double(n), digits: 2),
            inputTokens: Rounded.value(Double(total.inputTokens) / Double(n), digits: 2),
            outputTokens: Rounded.value(Double(total.outputTokens) / Double(n), digits: 2),
            costUSD: Money(nanos: CostCalculator.roundedDivision(total.costNanos, by: n)))
        return BreakdownAnswer(
            by: query.by, order: query.order, groups: rows.count,
            data: rows.prefix(query.limit).map { row in
                let key = StatsGroupKey(bucketStart: nil, values: row.values)
                return GroupSummary(
                    bucket: nil, group: row.values.first ?? nil, row.summary, activeUsers: activeUsers.map { $0[key] ?? 0 },
                    feedback: feedbackTotals[key] ?? FeedbackTotals())
            },
            average: average, from: UTCTime.iso(range.fromMs), to: UTCTime.iso(range.toMs))
    }

    /// `GET /admin/stats/errors`: what failed or was refused, where, how often, and the latest message.
    package func errors(_ query: ErrorsQuery, by principal: AdminPrincipal) async throws -> ErrorsAnswer {
        let range = try query.filters.range(now: now)
        let filter = try query.filters.filter(range, by: principal)
        async let summary = store.summary(filter: filter)
        let failures = try await store.errors(filter: filter, limit: query.limit)
        let total = try await summary
        let failed = total.requests - total.okRequests
        return ErrorsAnswer(
            requests: total.requests, failedRequests: failed,
            errorRate: Rounded.value(total.requests > 0 ? Double(failed) / Double(total.requests) : 0, digits: 4),
            groups: failures.total,
            data: failures.groups.map { group in
                ErrorsAnswer.Group(
                    outcome: group.outcome, status: group.status, provider: group.provider, model: group.model, requests: group.requests,
                    share: Rounded.value(failed > 0 ? Double(group.requests) / Double(failed) : 0, digits: 4),
                    latestAt: group.latestAtMs.map(UTCTime.iso), latestError: group.latestError)
            },
            from: UTCTime.iso(range.fromMs), to: UTCTime.iso(range.toMs))
    }

    /// `GET /admin/stats/forecast`: the next 30 and 90 days' spend from the last `historyDays` full
    /// UTC days of daily cost; method in `SpendForecast` and docs/analytics.md. The query's own
    /// `from` and `to` are replaced by that history.
    package func forecast(_ query: ForecastQuery, by principal: AdminPrincipal) async throws -> ForecastAnswer {
        let days = query.historyDays
        let today = BudgetPeriod.day.start(containing: clock())
        let range = (fromMs: today - Int64(days) * 86_400_000, toMs: today)
        let rows = try await store.summaries(filter: try query.filters.filter(range, by: principal), granularity: .day)
        var daily = [Double](repeating: 0, count: days)
        for row in rows {
            guard let bucket = row.bucketStart else { continue }
            let index = Int((bucket - range.fromMs) / 86_400_000)
            if daily.indices.contains(index) { daily[index] = Double(row.summary.costNanos) / 1e9 }
        }
        var answer = ForecastAnswer(
            method: "linear trend + weekly seasonality, least squares over the last \(days) full UTC days", historyDays: days,
            historyFrom: UTCTime.iso(range.fromMs), historyTo: UTCTime.iso(range.toMs),
            historyCostUSD: Money(nanos: rows.reduce(0) { $0 + $1.summary.costNanos }))
        // 1970-01-01 was a Thursday (weekday 3 with Monday = 0).
        let firstWeekday = Int(((range.fromMs / 86_400_000) + 3) % 7)
        guard let fit = SpendForecast.fit(daily, firstWeekday: firstWeekday) else { return answer }
        func usd(_ dollars: Double) -> Money { Money(nanos: Int64((dollars * 1e9).rounded())) }
        answer.trendUSDPerDay = Rounded.value(fit.slope, digits: 9)
        let next30 = fit.projection(days: 30)
        (answer.next30DaysUSD, answer.next30DaysLowUSD, answer.next30DaysHighUSD) = (usd(next30.total), usd(next30.low), usd(next30.high))
        let next90 = fit.projection(days: 90)
        (answer.next90DaysUSD, answer.next90DaysLowUSD, answer.next90DaysHighUSD) = (usd(next90.total), usd(next90.low), usd(next90.high))
        // No spend at all says nothing about the future: confidence 0, not a perfect fit.
        answer.confidence = Rounded.value(daily.contains { $0 > 0 } ? fit.rSquared : 0, digits: 4)
        return answer
    }

    /// `GET /admin/usage`: raw events newest first, a page at a time.
    package func usage(_ query: UsageQuery, by principal: AdminPrincipal) async throws -> ListAnswer<UsageEventView> {
        var cursor: UsageEventCursor?
        if let text = query.cursor {
            guard let parsed = UsageEventCursor(encoded: text) else { throw InvalidQuery("'cursor' is not one this API gave.") }
            cursor = parsed
        }
        var filter = try query.filters.filter(try query.filters.range(now: now), by: principal)
        if let requestID = query.requestID {
            filter.requestID = requestID
            // Looking one request up: any time unless the caller bounded it.
            if query.filters.from == nil { filter.from = nil }
            if query.filters.to == nil { filter.to = nil }
        }
        let page = try await store.events(filter: filter, limit: query.limit, after: cursor)
        return ListAnswer(data: page.events.map(UsageEventView.init), nextCursor: page.nextCursor?.encoded)
    }

    /// The usage event of one request, committed or still in `writer`'s next batch (feedback may
    /// come the moment the answer did).
    func event(_ requestID: String, flushing writer: UsageWriter?) async throws -> UsageEvent? {
        let filter = StatsFilter(requestID: requestID)
        if let event = try await store.events(filter: filter, limit: 1).events.first { return event }
        guard let writer else { return nil }
        try await writer.flush()
        return try await store.events(filter: filter, limit: 1).events.first
    }

    /// Every event the filters cover, for `/admin/export` and `tollgate export`. The filters are
    /// checked here, before any output, so a bad one is refused with nothing written.
    package func export(_ query: StatsQuery, by principal: AdminPrincipal) throws -> EventExport {
        EventExport(store: store, filter: try query.filter(try query.range(now: now), by: principal))
    }
}

/// The events of an export, read newest first, 1000 per database page.
package struct EventExport: Sendable {
    let store: UsageStore
    let filter: StatsFilter

    /// The export as text, `emit`ted a database page at a time with the count of events so far:
    /// CSV (`format` "csv", with its header row) or a JSON array; the bytes `/admin/export`,
    /// the dashboard's download and `tollgate export` all write.
    package func write(format: String, _ emit: (String, Int) async throws -> Void) async throws {
        try await emit(format == "csv" ? UsageEventExport.csvHeader : "[", 0)
        var (cursor, count) = (UsageEventCursor?.none, 0)
        repeat {
            let page = try await store.events(filter: filter, limit: 1000, after: cursor)
            var text = ""
            for event in page.events {
                text += format == "csv" ? UsageEventExport.csvRow(event) : (count == 0 ? "\n" : ",\n") + UsageEventExport.json(event)
                count += 1
            }
            if !text.isEmpty { try await emit(text, count) }
            cursor = page.nextCursor
        } while cursor != nil
        if format == "json" { try await emit("\n]\n", count) }
    }
}
