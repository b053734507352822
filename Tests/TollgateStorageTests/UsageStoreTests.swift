import Foundation
import GRDB
import Testing
import TollgateCore

@testable import TollgateStorage

@Suite("Usage store: stats from rollups, raw sums, filters, rebuild, paging")
struct UsageStoreTests {
    /// Writes `events` through a writer, in batches of `batch`.
    private func store(_ events: [UsageEvent], in database: TollgateDatabase, batch: Int = 700) async throws {
        let writer = UsageWriter.manual(database)
        for (index, event) in events.enumerated() {
            writer.record(event)
            if index % batch == batch - 1 { try await writer.flush() }
        }
        try await writer.flush()
    }

    /// The filter's totals summed in Swift, the test's independent oracle for counts and money.
    private func expected(_ events: [UsageEvent], _ filter: StatsFilter) -> StatsSummary {
        var summary = StatsSummary()
        for event in events {
            if let from = filter.from, event.startedAtMs < from { continue }
            if let to = filter.to, event.startedAtMs >= to { continue }
            if let org = filter.org, event.org != org { continue }
            if let team = filter.team, event.team != team { continue }
            if let user = filter.user, event.user != user { continue }
            if let key = filter.key, event.keyID != key { continue }
            if let provider = filter.provider, event.provider != provider { continue }
            if let model = filter.model, event.model != model { continue }
            if filter.tags.contains(where: { event.tags[$0.key] != $0.value }) { continue }
            if let department = filter.department, event.department != department { continue }
            if let endpoint = filter.endpoint, event.endpoint.rawValue != endpoint { continue }
            if let outcome = filter.outcome, event.outcome.rawValue != outcome { continue }
            if let status = filter.status, event.status != status { continue }
            summary.requests += 1
            summary.okRequests += event.outcome == .ok ? 1 : 0
            summary.errorRequests += event.outcome != .ok && !event.outcome.isBlocked ? 1 : 0
            summary.blockedRequests += event.outcome.isBlocked ? 1 : 0
            summary.cachedRequests += event.cached ? 1 : 0
            summary.unpricedRequests +=
                !event.priced && event.endpoint != .other && !event.outcome.isBlocked && event.outcome != .invalidRequest ? 1 : 0
            summary.inputTokens += Int64(event.usage.inputTokens)
            summary.outputTokens += Int64(event.usage.outputTokens)
            summary.cachedInputTokens += Int64(event.usage.cachedInputTokens)
            summary.cacheWriteTokens += Int64(event.usage.cacheWriteTokens)
            summary.reasoningTokens += Int64(event.usage.reasoningTokens)
            summary.costNanos += event.costNanos
            summary.potentialCostNanos += event.potentialCostNanos
            summary.promptCacheSavingsNanos += event.promptCacheSavingsNanos
            summary.chargedNanos += event.chargedNanos
            summary.latencyMicrosSum += Int64((event.latencyMs * 1000).rounded())
            summary.latencyHistogram.add(event.latencyMs)
        }
        return summary
    }

    private static let day0 = Fixtures.day0
    private static let hour = Fixtures.hour
    private static let day = Fixtures.day

    /// Ranges that exercise every plan: unbounded, aligned days, partial hours, within one hour.
    private static let ranges: [(Int64?, Int64?)] = [
        (nil, nil),
        (day0, day0 + 2 * day),
        (day0 + hour + 123, day0 + 2 * day + 5 * hour + 17 * 60_000),
        (day0 + 3 * hour, day0 + 20 * hour),
        (day0 + 5 * hour + 10, day0 + 5 * hour + 1_800_000),
        (day0 + 30 * hour + 1, nil),
        (nil, day0 + day + 7),
        (day0 + 4 * day, day0 + 5 * day),
        (day0 + 3 * hour + 50 * 60_000, day0 + 2 * day + 7 * hour + 55 * 60_000),
        (day0 + 23 * hour + 1, day0 + day + 59 * 60_000),
    ]

    @Test("active users are distinct over the whole range, grouped or bucketed, whichever tables hold them")
    func activeUsersAreDistinct() async throws {
        try await withTemporaryDatabase { database, _ in
            let events = Fixtures.mixedEvents(count: 3_000)
            try await store(events, in: database)
            let store = UsageStore(database: database)
            func users(_ events: some Sequence<UsageEvent>) -> Int64 { Int64(Set(events.compactMap { $0.user?.isEmpty == false ? $0.user : nil }).count) }
            for (from, to) in Self.ranges {
                var filter = StatsFilter()
                (filter.from, filter.to) = (from, to)
                let inRange = events.filter { e in (from.map { e.startedAtMs >= $0 } ?? true) && (to.map { e.startedAtMs < $0 } ?? true) }
                // Edges read raw, whole hours and days from rollups: a user in both counts once.
                #expect(try await store.activeUsers(filter: filter)?.values.first ?? 0 == users(inRange), "\(String(describing: from))…\(String(describing: to))")
                let byOrg = try #require(try await store.activeUsers(filter: filter, groupBy: [.org]))
                for (org, members) in Dictionary(grouping: inRange, by: \.org) {
                    #expect(byOrg[StatsGroupKey(bucketStart: nil, values: [org])] == users(members), "\(org)")
                }
                // Per hour, each segment counts its own hours (edges included) by itself.
                let hourly = try #require(try await store.activeUsers(filter: filter, groupBy: [.org], granularity: .hour))
                for (key, members) in Dictionary(grouping: inRange, by: { StatsGroupKey(bucketStart: $0.startedAtMs - $0.startedAtMs % Fixtures.hour, values: [$0.org]) }) {
                    #expect(hourly[key] ?? 0 == users(members), "hour \(String(describing: key.bucketStart)) \(key.values)")
                }
                // Users are not counted where no rollup keeps them with the query's dimensions.
                #expect(try await store.activeUsers(filter: filter, groupBy: [.department]) == nil)
                // Hourly rows re-bucketed into days starting at 05:00 UTC (a zone 5 hours behind)
                // count each user once per such day.
                let first: Int64 = Self.day0 - Self.day + 5 * Self.hour
                let starts: [Int64] = (0..<6).map { first + Int64($0) * Self.day }
                let days = BucketMap(starts: starts)
                let daily = try #require(try await store.activeUsers(filter: filter, granularity: .hour, rebucket: days))
                let grouped = Dictionary(grouping: inRange, by: { days($0.startedAtMs) })
                if from == nil, to == nil { #expect(grouped.count == 4, "3 days of events over 4 shifted days") }
                for (day, members) in grouped {
                    #expect(daily[StatsGroupKey(bucketStart: day, values: [])] ?? 0 == users(members), "day \(day)")
                }
                #expect(daily.count == grouped.count)
            }
        }
    }

    @Test("active users of buckets made of hours: from daily rows less hourly ones, as from the events", arguments: [0, 1, 5, 13, 19])
    func activeUsersByDay(shift: Int64) async throws {
        try await withTemporaryDatabase { database, _ in
            // Sparse users (about two requests each), so a piece of a day misses many of the day's users.
            var events = Fixtures.mixedEvents(count: 1_500)
            for index in events.indices where events[index].user != nil { events[index].user = "u\(index % 500)" }
            try await store(events, in: database)
            let store = UsageStore(database: database)
            let first = Self.day0 - Self.day + shift * Self.hour
            // Days shifted by `shift` hours, one 23-hour and one 25-hour day (a DST change), and a 2½-day bucket.
            let maps = [
                BucketMap(starts: (0..<6).map { first + Int64($0) * Self.day }),
                BucketMap(starts: [first, first + Self.day, first + 2 * Self.day - Self.hour, first + 3 * Self.day, first + 4 * Self.day]),
                BucketMap(starts: [first, first + 60 * Self.hour, first + 120 * Self.hour]),
            ]
            let ranges: [(Int64, Int64)] = [
                (Self.day0, Self.day0 + 3 * Self.day), (first, first + 4 * Self.day), (Self.day0 + 2 * Self.hour, Self.day0 + 2 * Self.day + 5 * Self.hour),
                (Self.day0 + 11 * Self.hour, Self.day0 + 12 * Self.hour), (Self.day0 - 3 * Self.day, Self.day0 + 9 * Self.hour),
            ]
            for map in maps {
                for (from, to) in ranges {
                    var filter = StatsFilter()
                    (filter.from, filter.to) = (from, to)
                    let inRange = events.filter { $0.startedAtMs >= from && $0.startedAtMs < to && $0.user?.isEmpty == false }
                    for groupBy in [[], [StatsDimension.org], [.team]] {
                        let counted = try #require(try await store.activeUsers(filter: filter, groupBy: groupBy, granularity: .hour, rebucket: map))
                        let expected = Dictionary(grouping: inRange) { e in
                            StatsGroupKey(bucketStart: map(e.startedAtMs), values: groupBy.map { $0 == .org ? e.org : (e.team?.isEmpty == false ? e.team : nil) })
                        }.mapValues { Int64(Set($0.compactMap(\.user)).count) }
                        #expect(counted == expected, "\(from)…\(to) by \(groupBy)")
                    }
                    filter.org = events[0].org
                    let oneOrg = try #require(try await store.activeUsers(filter: filter, granularity: .hour, rebucket: map))
                    let expected = Dictionary(grouping: inRange.filter { $0.org == filter.org }) { StatsGroupKey(bucketStart: map($0.startedAtMs), values: []) }
                        .mapValues { Int64(Set($0.compactMap(\.user)).count) }
                    #expect(oneOrg == expected)
                }
            }
        }
    }

    @Test("a bucket map finds the same bucket in Swift and in SQL, at and around every start")
    func bucketMap() async throws {
        try await withTemporaryDatabase { database, _ in
            var random = SeededGenerator(seed: 7)
            for count in [1, 2, 3, 30, 31, 731] {
                var starts: [Int64] = []
                var at = Self.day0
                for _ in 0..<count {
                    starts.append(at)
                    at += [23, 24, 25, 24 * 7][Int.random(in: 0..<4, using: &random)] * Self.hour
                }
                let map = BucketMap(starts: starts)
                let probes = starts.flatMap { [$0 - 1, $0, $0 + 1, $0 + Self.hour] } + [starts[0] - Self.day, at + Self.day]
                let sql = "SELECT \(map.sqlExpression(of: "x")) FROM (SELECT ? AS x)"
                for probe in probes {
                    let expected = starts.last { $0 <= probe } ?? starts[0]
                    #expect(map(probe) == expected)
                    let fromSQL = try await database.pool.read { db in try Int64.fetchOne(db, sql: sql, arguments: [probe]) }
                    #expect(fromSQL == expected, "\(count) buckets, probe \(probe)")
                }
            }
        }
    }

    @Test("rollup totals equal raw sums and the Swift oracle for every range and filter")
    func rollupsEqualRawSums() async throws {
        try await withTemporaryDatabase { database, _ in
            let events = Fixtures.mixedEvents(count: 4_000)
            try await store(events, in: database)
            let store = UsageStore(database: database)
            let filters = [
                StatsFilter(),
                StatsFilter(org: "acme"),
                StatsFilter(org: "globex", team: "ml"),
                StatsFilter(user: "user3"),
                StatsFilter(key: "key_initech_1"),
                StatsFilter(provider: "anthropic"),
                StatsFilter(org: "acme", model: "gpt-4o-mini"),
                StatsFilter(department: "research"),
                StatsFilter(org: "globex", department: "finance"),
                StatsFilter(outcome: "upstream_error"),
                StatsFilter(provider: "openai", status: 500),
                StatsFilter(org: "acme", endpoint: "other"),
            ]
            for (from, to) in Self.ranges {
                for var filter in filters {
                    filter.from = from
                    filter.to = to
                    let fromRollups = try await store.summary(filter: filter)
                    let fromRaw = try await store.rawSummary(filter: filter)
                    #expect(fromRollups == fromRaw, "range \(String(describing: from))..<\(String(describing: to)) \(filter)")
                    let oracle = expected(events, filter)
                    var withoutLatency = fromRollups
                    withoutLatency.latencyMicrosSum = oracle.latencyMicrosSum
                    #expect(withoutLatency == oracle, "range \(String(describing: from))..<\(String(describing: to)) \(filter)")
                    #expect(abs(fromRollups.latencyMicrosSum - oracle.latencyMicrosSum) <= fromRollups.requests)
                }
            }
            #expect(try await store.summary(filter: StatsFilter()).requests == 4_000)
            // Grouped by SPEC §13's dimensions, the rollups give the raw events' groups exactly.
            for dimension in [StatsDimension.department, .outcome, .status, .endpoint] {
                for (from, to) in Self.ranges {
                    var filter = StatsFilter()
                    (filter.from, filter.to) = (from, to)
                    let rolled = try await store.summaries(filter: filter, groupBy: [dimension])
                    let raw = try await store.summaries(filter: filter, groupBy: [dimension], forceRaw: true)
                    #expect(rolled == raw, "\(dimension) \(String(describing: from))..<\(String(describing: to))")
                }
            }
        }
    }

    @Test("each filter is an exact match and the time range is half-open")
    func filters() async throws {
        try await withTemporaryDatabase { database, _ in
            let t = Self.day0 + 10 * Self.hour
            let events = [
                Fixtures.event("1", at: t, org: "acme", key: "k1", team: "ml", user: "ann", tags: ["feature": "search"], costNanos: 1),
                Fixtures.event("2", at: t + 1, org: "acme", key: "k2", team: "web", user: "bob", model: "gpt-4o-mini", costNanos: 10),
                Fixtures.event("3", at: t + 2, org: "globex", key: "k3", provider: "anthropic", model: "claude", costNanos: 100),
                Fixtures.event("4", at: t + Self.hour, org: "acme", key: "k1", team: "ml", user: "ann", tags: ["feature": "chat"], costNanos: 1_000),
            ]
            try await store(events, in: database)
            let store = UsageStore(database: database)
            func cost(_ filter: StatsFilter) async throws -> Int64 { try await store.summary(filter: filter).costNanos }

            #expect(try await cost(StatsFilter()) == 1_111)
            #expect(try await cost(StatsFilter(org: "acme")) == 1_011)
            #expect(try await cost(StatsFilter(team: "ml")) == 1_001)
            #expect(try await cost(StatsFilter(user: "bob")) == 10)
            #expect(try await cost(StatsFilter(key: "k1")) == 1_001)
            #expect(try await cost(StatsFilter(provider: "anthropic")) == 100)
            #expect(try await cost(StatsFilter(model: "gpt-4o")) == 1_001)
            #expect(try await cost(StatsFilter(org: "acme", team: "web")) == 10)
            #expect(try await cost(StatsFilter(org: "nobody")) == 0)
            #expect(try await cost(StatsFilter(tags: ["feature": "search"])) == 1)
            #expect(try await cost(StatsFilter(org: "acme", tags: ["feature": "chat"])) == 1_000)
            #expect(try await cost(StatsFilter(from: t, to: t + 2)) == 11)
            #expect(try await cost(StatsFilter(from: t + 1, to: t + Self.hour)) == 110)
            #expect(try await cost(StatsFilter(from: t + Self.hour)) == 1_000)
            #expect(try await cost(StatsFilter(to: t)) == 0)
            #expect(try await cost(StatsFilter(from: t + 5, to: t)) == 0)
            #expect(try await store.summary(filter: StatsFilter(org: "nobody")) == StatsSummary())
        }
    }

    @Test("a tag name that cannot be a JSON path member is refused")
    func invalidTagFilter() async throws {
        try await withTemporaryDatabase { database, _ in
            let store = UsageStore(database: database)
            await #expect {
                _ = try await store.summary(filter: StatsFilter(tags: ["bad\"name": "x"]))
            } throws: { error in
                (error as? StorageError)?.code == .invalidFilter
            }
        }
    }

    @Test("rebuilding the rollups from raw events gives exactly the incremental rollups")
    func rebuildEqualsIncremental() async throws {
        try await withTemporaryDatabase { database, _ in
            var events = Fixtures.mixedEvents(count: 3_000, days: 4)
            events += events.prefix(100)  // duplicates must not count in either
            try await store(events, in: database, batch: 333)
            // Rows are not Sendable, so this reads synchronously.
            func snapshot() throws -> [Row] { try rollupRows(database) }
            let incremental = try snapshot()
            let store = UsageStore(database: database)
            #expect(try await store.rebuildRollups() == 3_000)
            let rebuilt = try snapshot()
            #expect(rebuilt.count == incremental.count)
            #expect(Set(rebuilt.map { $0[0] as String }) == Set(RollupTable.all.map(\.name)))
            #expect(rebuilt == incremental)
            let summary = try await store.summary(filter: StatsFilter())
            let raw = try await store.rawSummary(filter: StatsFilter())
            #expect(summary == raw)
        }
    }

    @Test("rebuilding a range of days recomputes those days only and matches the incremental rollups")
    func rebuildRange() async throws {
        try await withTemporaryDatabase { database, _ in
            try await store(Fixtures.mixedEvents(count: 2_000, days: 4), in: database)
            func rows() throws -> [Row] { try rollupRows(database) }
            let before = try rows()
            // Tamper with day 2 and day 0; rebuild day 1 through the middle of day 2 only.
            try await database.pool.write { db in
                for table in RollupTable.all where table.granularity == .day {
                    try db.execute(sql: "UPDATE \(table.name) SET cost_nanos = 0 WHERE bucket_start IN (?, ?)", arguments: [Self.day0, Self.day0 + 2 * Self.day])
                }
                for table in RollupTable.all where table.granularity == .hour {
                    try db.execute(
                        sql: "UPDATE \(table.name) SET cost_nanos = 0 WHERE bucket_start >= ? AND bucket_start < ?",
                        arguments: [Self.day0 + 2 * Self.day, Self.day0 + 3 * Self.day])
                }
            }
            let store = UsageStore(database: database)
            let rebuilt = try await store.rebuildRollups(from: Self.day0 + Self.day + 5, to: Self.day0 + 2 * Self.day + Self.hour)
            let raw = try await store.rawSummary(filter: StatsFilter(from: Self.day0 + Self.day, to: Self.day0 + 3 * Self.day))
            #expect(Int64(rebuilt) == raw.requests)
            let day0Cost = try await store.summary(filter: StatsFilter(from: Self.day0, to: Self.day0 + Self.day)).costNanos
            #expect(day0Cost == 0)  // outside the range: left as it was
            let day2 = StatsFilter(from: Self.day0 + 2 * Self.day, to: Self.day0 + 3 * Self.day)
            #expect(try await store.summary(filter: day2) == store.rawSummary(filter: day2))
            try await store.rebuildRollups()
            #expect(try rows() == before)
        }
    }

    @Test("every field of an event survives storage, tags with quotes and control characters included")
    func eventRoundTrip() async throws {
        try await withTemporaryDatabase { database, _ in
            let full = UsageEvent(
                requestID: "req-full", startedAtMs: Self.day0 + 42, org: "acme", keyID: "key_1", team: "ml", user: "ann",
                department: "r&d", session: "s-9", tags: ["quote": "say \"hi\"\\", "ctl": "a\tb\u{01}\n", "ünï": "cødé ✓"],
                provider: "anthropic", endpoint: .messages, model: "claude-sonnet-4-5", status: 529, outcome: .upstreamError,
                stream: true, cached: true,
                usage: Usage(inputTokens: 1, outputTokens: 2, cachedInputTokens: 3, cacheWriteTokens: 4, reasoningTokens: 5),
                costNanos: 6, potentialCostNanos: 7, promptCacheSavingsNanos: 8, chargedNanos: 9, latencyMs: 10.5,
                ttfbMs: 11.25, upstreamMs: 12.125, bytesIn: 13, bytesOut: 14, usageSource: .estimated, priced: false,
                pricingVersion: "v3", error: "overloaded")
            let sparse = UsageEvent(
                requestID: "req-sparse", startedAtMs: Self.day0, org: "acme", keyID: "key_1", provider: "openai",
                endpoint: .other, model: "", status: 0, outcome: .clientAbort, latencyMs: .nan, ttfbMs: .infinity)
            let writer = UsageWriter.manual(database)
            writer.record(full)
            writer.record(sparse)
            try await writer.flush()
            let store = UsageStore(database: database)
            #expect(try await store.event(requestID: "req-full") == full)
            var sanitized = sparse
            sanitized.latencyMs = 0
            sanitized.ttfbMs = nil
            #expect(try await store.event(requestID: "req-sparse") == sanitized)
            #expect(try await store.event(requestID: "missing") == nil)
            #expect(try await store.summary(filter: StatsFilter(tags: ["quote": "say \"hi\"\\"])).requests == 1)
        }
    }

    @Test("p50, p95 and p99 from merged rollups are within 5 % of the exact percentiles")
    func percentilesFromRollups() async throws {
        try await withTemporaryDatabase { database, _ in
            var random = SeededGenerator(seed: 99)
            let events = (0..<10_000).map { index -> UsageEvent in
                let u1 = Double.random(in: Double.ulpOfOne...1, using: &random)
                let u2 = Double.random(in: 0...1, using: &random)
                let latency = 1_200 * exp(1.1 * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
                return Fixtures.event(
                    "l\(index)", at: Self.day0 + Int64.random(in: 0..<(3 * Self.day), using: &random),
                    key: "k\(index % 7)", model: ["a", "b", "c"][index % 3], latencyMs: latency)
            }
            try await store(events, in: database, batch: 1_000)
            let summary = try await UsageStore(database: database).summary(filter: StatsFilter())
            let latencies = events.map(\.latencyMs)
            for (quantile, estimate) in [(0.5, summary.p50LatencyMs), (0.95, summary.p95LatencyMs), (0.99, summary.p99LatencyMs)] {
                let exact = Fixtures.exactPercentile(latencies, quantile)
                let value = try #require(estimate)
                #expect(abs(value - exact) / exact <= 0.05, "p\(Int(quantile * 100)): \(value) vs \(exact)")
            }
            let average = try #require(summary.averageLatencyMs)
            let exactAverage = latencies.reduce(0, +) / Double(latencies.count)
            #expect(abs(average - exactAverage) / exactAverage < 1e-6)
        }
    }

    @Test("grouped stats per hour and model from rollups equal the same grouping over raw events")
    func groupedSummaries() async throws {
        try await withTemporaryDatabase { database, _ in
            let events = Fixtures.mixedEvents(count: 2_000, days: 2)
            try await store(events, in: database)
            let store = UsageStore(database: database)
            for filter in [
                StatsFilter(from: Self.day0 + 90 * 60_000, to: Self.day0 + 2 * Self.day - 1),
                StatsFilter(from: Self.day0 + 5 * 60_000, to: Self.day0 + Self.day + 20 * 60_000),
                StatsFilter(from: Self.day0 + 5 * 60_000, to: Self.day0 + Self.day + 40 * 60_000, org: "acme"),
                StatsFilter(from: Self.day0 + 35 * 60_000, to: Self.day0 + 2 * Self.day, key: "key_globex_1"),
            ] {
                for granularity in [RollupGranularity.hour, .day, nil] {
                    for groupBy in [[StatsDimension](), [.model], [.org], [.org, .provider], [.org, .team], [.user], [.key], [.team, .user]] {
                        if granularity == nil && groupBy.isEmpty { continue }
                        let fromRollups = try await store.summaries(filter: filter, groupBy: groupBy, granularity: granularity)
                        let fromRaw = try await store.summaries(filter: filter, groupBy: groupBy, granularity: granularity, forceRaw: true)
                        #expect(fromRollups == fromRaw)
                        #expect(fromRollups.reduce(0) { $0 + $1.summary.costNanos } == expected(events, filter).costNanos)
                    }
                }
            }
            let hours = try await store.summaries(filter: StatsFilter(), granularity: .hour)
            #expect(hours.count == 48)
            #expect(hours.allSatisfy { $0.bucketStart! % Self.hour == 0 })
            let teams = try await store.summaries(filter: StatsFilter(), groupBy: [.team])
            #expect(teams.map(\.values) == [[nil], ["ml"], ["web"]])
            let byFeature = try await store.summaries(filter: StatsFilter(), groupBy: [.tag("feature")])
            #expect(byFeature.map(\.values) == [[nil], ["chat"], ["search"], ["summarize"]])
            #expect(byFeature.reduce(0) { $0 + $1.summary.requests } == 2_000)
        }
    }

    @Test("events page newest first and the cursor continues without gaps or repeats")
    func eventPaging() async throws {
        try await withTemporaryDatabase { database, _ in
            var events = Fixtures.mixedEvents(count: 250)
            events.append(Fixtures.event("same-ms-a", at: Self.day0 + 1))
            events.append(Fixtures.event("same-ms-b", at: Self.day0 + 1))
            try await store(events, in: database)
            let store = UsageStore(database: database)
            var seen: [UsageEvent] = []
            var cursor: UsageEventCursor?
            repeat {
                let page = try await store.events(filter: StatsFilter(), limit: 40, after: cursor)
                seen += page.events
                cursor = try page.nextCursor.map { try #require(UsageEventCursor(encoded: $0.encoded)) }
            } while cursor != nil
            #expect(seen.count == events.count)
            #expect(Set(seen.map(\.requestID)).count == events.count)
            #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.startedAtMs >= $1.startedAtMs })
            let original = Dictionary(uniqueKeysWithValues: events.map { ($0.requestID, $0) })
            #expect(seen.allSatisfy { original[$0.requestID] == $0 })
            let acme = try await store.events(filter: StatsFilter(org: "acme", tags: ["agent": "planner"]), limit: 1_000)
            #expect(acme.events.count == events.filter { $0.org == "acme" && $0.tags["agent"] == "planner" }.count)
            #expect(acme.nextCursor == nil)
        }
    }

    @Test("query plans use daily rollups for whole days, hourly for whole hours, raw events for the edges")
    func queryPlan() {
        typealias Segment = StatsQueryPlan.Segment
        let d = Self.day0
        let h = Self.hour
        #expect(StatsQueryPlan(from: nil, to: nil, rawOnly: false, allowDaily: true).segments == [Segment(source: .rollup(.daily), from: nil, to: nil)])
        #expect(
            StatsQueryPlan(from: d - 2 * h - 5, to: d + h + 5, rawOnly: false, allowDaily: true).segments == [
                Segment(source: .raw, from: d - 2 * h - 5, to: d - 2 * h),
                Segment(source: .rollup(.hourly), from: d - 2 * h, to: d + h),
                Segment(source: .raw, from: d + h, to: d + h + 5),
            ])
        #expect(
            StatsQueryPlan(from: d - h, to: d + Self.day + 2 * h, rawOnly: false, allowDaily: true).segments == [
                Segment(source: .rollup(.hourly), from: d - h, to: d),
                Segment(source: .rollup(.daily), from: d, to: d + Self.day),
                Segment(source: .rollup(.hourly), from: d + Self.day, to: d + Self.day + 2 * h),
            ])
        #expect(
            StatsQueryPlan(from: d - h - 5, to: d + Self.day + 2 * h, rawOnly: false, allowDaily: true, detail: .model).segments == [
                Segment(source: .raw, from: d - h - 5, to: d - h),
                Segment(source: .rollup(.hourlyByModel), from: d - h, to: d),
                Segment(source: .rollup(.dailyByModel), from: d, to: d + Self.day),
                Segment(source: .rollup(.hourlyByModel), from: d + Self.day, to: d + Self.day + 2 * h),
            ])
        #expect(
            StatsQueryPlan(from: d - h, to: d + Self.day + 2 * h, rawOnly: false, allowDaily: false).segments == [
                Segment(source: .rollup(.hourly), from: d - h, to: d + Self.day + 2 * h)
            ])
        // An edge more than half an hour into the range: the whole hour from the rollups, minus the rest.
        #expect(
            StatsQueryPlan(from: d - h + 5, to: d + Self.day + 2 * h - 5, rawOnly: false, allowDaily: true, detail: .model).segments == [
                Segment(source: .raw, from: d - h, to: d - h + 5, subtracted: true),
                Segment(source: .rollup(.hourlyByModel), from: d - h, to: d),
                Segment(source: .rollup(.dailyByModel), from: d, to: d + Self.day),
                Segment(source: .rollup(.hourlyByModel), from: d + Self.day, to: d + Self.day + 2 * h),
                Segment(source: .raw, from: d + Self.day + 2 * h - 5, to: d + Self.day + 2 * h, subtracted: true),
            ])
        #expect(
            StatsQueryPlan(from: d + 5, to: d + Self.day, rawOnly: false, allowDaily: true).segments == [
                Segment(source: .raw, from: d, to: d + 5, subtracted: true),
                Segment(source: .rollup(.daily), from: d, to: d + Self.day),
            ])
        #expect(StatsQueryPlan(from: d + 5, to: d + 10, rawOnly: false, allowDaily: true).segments == [Segment(source: .raw, from: d + 5, to: d + 10)])
        #expect(StatsQueryPlan(from: d, to: d + 10, rawOnly: true, allowDaily: true).segments == [Segment(source: .raw, from: d, to: d + 10)])
        #expect(StatsQueryPlan(from: d, to: d, rawOnly: false, allowDaily: true).segments.isEmpty)
    }
    @Test("a query reads the coarsest rollup detail that keeps every dimension it filters or groups by")
    func detailChoice() async throws {
        func coarsest(_ filter: StatsFilter, _ groupBy: [StatsDimension] = []) -> RollupDetail? {
            RollupDetail.coarsest(answering: filter, groupBy: groupBy)
        }
        #expect(coarsest(StatsFilter()) == .org)
        #expect(coarsest(StatsFilter(org: "acme"), [.org]) == .org)
        #expect(coarsest(StatsFilter(provider: "openai")) == .model)
        #expect(coarsest(StatsFilter(org: "acme", provider: "openai", model: "gpt-4o"), [.org, .provider, .model]) == .model)
        #expect(coarsest(StatsFilter(), [.model]) == .model)
        #expect(coarsest(StatsFilter(key: "k")) == .caller)
        #expect(coarsest(StatsFilter(team: "ml")) == .caller)
        #expect(coarsest(StatsFilter(org: "acme", user: "ann")) == .caller)
        #expect(coarsest(StatsFilter(), [.key]) == .caller)
        #expect(coarsest(StatsFilter(), [.user]) == .caller)
        #expect(coarsest(StatsFilter(org: "acme"), [.team, .user]) == .caller)
        #expect(coarsest(StatsFilter(key: "k"), [.model]) == .full)
        #expect(coarsest(StatsFilter(model: "gpt-4o"), [.user]) == .full)
        #expect(coarsest(StatsFilter(department: "research")) == .department)
        #expect(coarsest(StatsFilter(org: "acme"), [.department]) == .department)
        #expect(coarsest(StatsFilter(outcome: "upstream_error"), [.status]) == .outcome)
        #expect(coarsest(StatsFilter(provider: "openai", endpoint: "chat"), [.model]) == .outcome)
        #expect(coarsest(StatsFilter(department: "research"), [.user]) == nil)
        #expect(coarsest(StatsFilter(session: "conv-1")) == nil)
        #expect(coarsest(StatsFilter(requestID: "req_1")) == nil)
        #expect(coarsest(StatsFilter(tags: ["feature": "chat"])) == nil)
        #expect(coarsest(StatsFilter(), [.org, .tag("feature")]) == nil)

        // End to end: zero one detail's cost; exactly the queries the planner sends there see it.
        let range = (from: Self.day0 + Self.hour, to: Self.day0 + 2 * Self.day)
        let queries: [(StatsFilter, [StatsDimension])] = [
            (StatsFilter(), []), (StatsFilter(org: "acme"), [.org]), (StatsFilter(provider: "anthropic"), [.model]),
            (StatsFilter(key: "key_acme_1"), []), (StatsFilter(), [.user]), (StatsFilter(team: "ml"), [.key]),
            (StatsFilter(org: "acme", user: "user2"), [.model]),
        ]
        for detail in RollupDetail.allCases {
            try await withTemporaryDatabase { database, _ in
                let events = Fixtures.mixedEvents(count: 1_000, days: 2)
                try await store(events, in: database)
                try await database.pool.write { db in
                    for table in RollupTable.all where table.detail == detail {
                        try db.execute(sql: "UPDATE \(table.name) SET cost_nanos = 0")
                    }
                }
                let store = UsageStore(database: database)
                for (filter, groupBy) in queries {
                    var ranged = filter
                    (ranged.from, ranged.to) = range
                    let rows = try await store.summaries(filter: ranged, groupBy: groupBy, granularity: .day)
                    let cost = rows.reduce(0) { $0 + $1.summary.costNanos }
                    let reads = coarsest(filter, groupBy) == detail
                    #expect(cost == (reads ? 0 : expected(events, ranged).costNanos), "\(detail) \(filter) \(groupBy)")
                    #expect(reads || cost > 0)
                }
            }
        }
    }

    @Test("each coarser rollup holds exactly the sums of its source table and of the raw events, duplicates ignored")
    func coarserRollupsEqualSums() async throws {
        try await withTemporaryDatabase { database, _ in
            var events = Fixtures.mixedEvents(count: 3_000, days: 3, seed: 7)
            events += events.suffix(200)  // retried request ids: counted once
            try await store(events, in: database, batch: 257)
            let unique = Array(events.prefix(3_000))
            func check() throws {
                try database.pool.read { db in
                    for table in RollupTable.all {
                        guard let source = table.source else { continue }
                        let keys = table.keyColumns.count
                        let groups = (1...keys).map(String.init).joined(separator: ", ")
                        let summed = try Row.fetchAll(
                            db,
                            sql: """
                                SELECT \(UsageSQL.bucketStart("bucket_start", size: table.granularity.milliseconds)),
                                    \(table.detail.dimensionColumns.joined(separator: ", ")), \(UsageSQL.rollupSummaryColumns)
                                FROM \(source.name) GROUP BY \(groups) ORDER BY \(groups)
                                """)
                        let stored = try Row.fetchAll(db, sql: "SELECT * FROM \(table.name) ORDER BY \(groups)")
                        #expect(stored.count == summed.count && !stored.isEmpty, "\(table.name)")
                        #expect(stored.map { Array($0.databaseValues) } == summed.map { Array($0.databaseValues) }, "\(table.name)")
                        let requests = try Int.fetchOne(db, sql: "SELECT SUM(requests) FROM \(table.name)")
                        #expect(requests == 3_000, "\(table.name)")
                        let cost = try Int64.fetchOne(db, sql: "SELECT SUM(cost_nanos) FROM \(table.name)")
                        #expect(cost == unique.reduce(0) { $0 + $1.costNanos }, "\(table.name)")
                    }
                }
            }
            try check()
            try await UsageStore(database: database).rebuildRollups()
            try check()
        }
    }

    /// Every rollup table's rows, each prefixed with its table name, in key order.
    private func rollupRows(_ database: TollgateDatabase) throws -> [Row] {
        try database.pool.read { db in
            try RollupTable.all.flatMap { table in
                try Row.fetchAll(db, sql: "SELECT '\(table.name)', * FROM \(table.name) ORDER BY \(table.keyColumns.joined(separator: ", "))")
            }
        }
    }
}
