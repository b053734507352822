import GRDB
import Logging
import Testing
import TollgateCore

@testable import TollgateStorage

@Suite("Tag rollups: configured tags answer from rollups, kept past raw retention, bounded per day")
struct TagRollupTests {
    private static let day0 = Fixtures.day0
    private static let hour = Fixtures.hour
    private static let day = Fixtures.day
    private static let logger = Logger(label: "test")

    private func store(_ events: [UsageEvent], in database: TollgateDatabase) async throws {
        let writer = UsageWriter.manual(database)
        for (index, event) in events.enumerated() {
            writer.record(event)
            if index % 300 == 299 { try await writer.flush() }
        }
        try await writer.flush()
    }

    private func configure(_ names: [String], maxValues: Int = 1000, _ database: TollgateDatabase) async throws {
        try await TagRollups.configure(TagRollupSettings(names: names, maxValues: maxValues), in: database, logger: Self.logger)
    }

    /// Every tag rollup row, in key order, as comparable text.
    private func rows(_ database: TollgateDatabase) async throws -> [String] {
        try await database.pool.read { db in
            try TagRollupTable.all.flatMap { table in
                try Row.fetchAll(db, sql: "SELECT * FROM \(table.name) ORDER BY tag, bucket_start, org, kind, value").map { "\(table.name) \($0)" }
            }
        }
    }

    /// Queries a tag rollup answers: filters, groupings and granularities over ragged and whole ranges.
    private static let queries: [(StatsFilter, [StatsDimension], RollupGranularity?)] = {
        let ranges: [(Int64?, Int64?)] = [
            (nil, nil), (day0 + 90 * 60_000, day0 + 2 * day - 1), (day0 + 5 * 60_000, day0 + day + 20 * 60_000),
            (day0 + hour, day0 + 2 * day),
        ]
        var queries: [(StatsFilter, [StatsDimension], RollupGranularity?)] = []
        for (from, to) in ranges {
            for granularity in [RollupGranularity.hour, .day, nil] {
                queries.append((StatsFilter(from: from, to: to, tags: ["feature": "chat"]), [], granularity))
                queries.append((StatsFilter(from: from, to: to, org: "acme", tags: ["agent": "planner"]), [], granularity))
                queries.append((StatsFilter(from: from, to: to), [.tag("feature")], granularity))
                queries.append((StatsFilter(from: from, to: to, org: "globex"), [.org, .tag("feature")], granularity))
                queries.append((StatsFilter(from: from, to: to, tags: ["feature": "search"]), [.tag("feature")], granularity))
            }
        }
        return queries
    }()

    @Test("configured tags answer every tag query as raw events do, and still do once the events are pruned")
    func answersLikeRawEvents() async throws {
        try await withTemporaryDatabase { database, _ in
            try await configure(["feature", "agent"], database)
            try await store(Fixtures.mixedEvents(count: 3_000, days: 2), in: database)
            let store = UsageStore(database: database)
            var wholeHourAnswers: [[StatsGroup]] = []
            for (filter, groupBy, granularity) in Self.queries {
                let fromRollups = try await store.summaries(filter: filter, groupBy: groupBy, granularity: granularity)
                let fromRaw = try await store.summaries(filter: filter, groupBy: groupBy, granularity: granularity, forceRaw: true)
                #expect(fromRollups == fromRaw, "\(filter) by \(groupBy) per \(String(describing: granularity))")
                #expect(!fromRaw.isEmpty)
                if filter.from.map({ $0 % Self.hour == 0 }) ?? true, filter.to.map({ $0 % Self.hour == 0 }) ?? true {
                    wholeHourAnswers.append(fromRollups)
                }
            }
            // Retention: with every raw event gone, whole-hour ranges answer the same from the tag rollups alone.
            try await database.pool.write { db in try db.execute(sql: "DELETE FROM usage_events") }
            var index = 0
            for (filter, groupBy, granularity) in Self.queries
            where filter.from.map({ $0 % Self.hour == 0 }) ?? true && filter.to.map({ $0 % Self.hour == 0 }) ?? true {
                #expect(try await store.summaries(filter: filter, groupBy: groupBy, granularity: granularity) == wholeHourAnswers[index])
                index += 1
            }
            // A tag not configured still reads raw events, which are gone now.
            #expect(try await store.summary(filter: StatsFilter(tags: ["other": "x"])).requests == 0)
            // A tag beside another dimension reads raw events too.
            #expect(try await store.summary(filter: StatsFilter(team: "ml", tags: ["feature": "chat"])).requests == 0)
        }
    }

    @Test("a tag added later is rolled up from the kept events, the same rows the writer writes; a tag removed keeps its rows")
    func backfillAndRemoval() async throws {
        try await withTemporaryDatabase { written, _ in
            try await withTemporaryDatabase { backfilled, _ in
                let events = Fixtures.mixedEvents(count: 2_000, days: 3)
                try await configure(["feature"], written)
                try await store(events, in: written)
                try await store(events, in: backfilled)
                #expect(try await rows(backfilled).isEmpty)
                try await configure(["feature"], backfilled)
                let expected = try await rows(written)
                #expect(expected.count > 100)
                #expect(try await rows(backfilled) == expected)
                // The rebuild writes the same rows again.
                try await UsageStore(database: written).rebuildRollups()
                #expect(try await rows(written) == expected)
                // Removed: no longer configured (queries read raw events), rows kept for retention to drop.
                try await configure([], backfilled)
                let configured = try await backfilled.pool.read { db in try TagRollups.configured(db) }
                #expect(configured.isEmpty)
                #expect(try await rows(backfilled) == expected)
                // Named again after its oldest kept day was pruned: that day's rows are kept, the rest rebuilt.
                try await backfilled.pool.write { db in
                    try db.execute(sql: "DELETE FROM usage_events WHERE started_at < ?", arguments: [Self.day0 + Self.day])
                    try db.execute(sql: "UPDATE rollup_daily_tag SET requests = requests + 1000 WHERE bucket_start >= ?", arguments: [Self.day0 + Self.day])
                }
                try await configure(["feature"], backfilled)
                #expect(try await rows(backfilled) == expected)
            }
        }
    }

    @Test("past the day's bound on values, later values share the overflow row; totals stay exact")
    func overflow() async throws {
        try await withTemporaryDatabase { database, _ in
            try await configure(["prompt"], maxValues: 2, database)
            // acme sees four prompts in one day, one per hour; globex two. A second day starts afresh.
            var events: [UsageEvent] = []
            for (index, prompt) in ["p1", "p2", "p3", "p4", "p1", "p3"].enumerated() {
                events.append(Fixtures.event("a\(index)", at: Self.day0 + Int64(index) * Self.hour, org: "acme", tags: ["prompt": prompt], costNanos: 10 + Int64(index)))
            }
            events.append(Fixtures.event("g0", at: Self.day0 + 30 * 60_000, org: "globex", tags: ["prompt": "p3"], costNanos: 100))
            events.append(Fixtures.event("g1", at: Self.day0 + 90 * 60_000, org: "globex", tags: ["prompt": "p4"], costNanos: 200))
            events.append(Fixtures.event("n0", at: Self.day0 + 2 * Self.hour, org: "acme", costNanos: 1_000))
            events.append(Fixtures.event("d1", at: Self.day0 + Self.day, org: "acme", tags: ["prompt": "p4"], costNanos: 5_000))
            for event in events { try await store([event], in: database) }
            let store = UsageStore(database: database)

            let dayOne = StatsFilter(from: Self.day0, to: Self.day0 + Self.day)
            let byPrompt = try await store.summaries(filter: StatsFilter(from: Self.day0, to: Self.day0 + Self.day, org: "acme"), groupBy: [.tag("prompt")])
            let costs = Dictionary(uniqueKeysWithValues: byPrompt.map { ($0.values[0], $0.summary.costNanos) })
            // p1 (10 + 14) and p2 (11) came first; p3 (12 + 15) and p4 (13) are past the bound of 2.
            #expect(costs == [nil: 1_000, "p1": 24, "p2": 11, TagRollups.overflowLabel: 40])
            // globex's day has room for both of its values.
            let globex = try await store.summaries(filter: StatsFilter(from: Self.day0, to: Self.day0 + Self.day, org: "globex"), groupBy: [.tag("prompt")])
            #expect(globex.map(\.values) == [["p3"], ["p4"]])
            // The next day starts afresh: p4 has its own row there.
            let dayTwo = try await store.summaries(filter: StatsFilter(from: Self.day0 + Self.day, to: Self.day0 + 2 * Self.day), groupBy: [.tag("prompt")])
            #expect(dayTwo.map(\.values) == [["p4"]])
            // A filter on a value reads raw events when the range has overflow rows: exact.
            #expect(try await store.summary(filter: StatsFilter(from: Self.day0, to: Self.day0 + Self.day, tags: ["prompt": "p3"])).costNanos == 12 + 15 + 100)
            // Totals over every group are the raw totals.
            let total = try await store.summaries(filter: dayOne, groupBy: [.tag("prompt")]).reduce(0) { $0 + $1.summary.costNanos }
            #expect(total == (try await store.rawSummary(filter: dayOne)).costNanos)
            // A ragged range over overflow rows adds raw edges instead of subtracting them.
            let ragged = StatsFilter(from: Self.day0 + 40 * 60_000, to: Self.day0 + 5 * Self.hour + 50 * 60_000)
            let raggedTotal = try await store.summaries(filter: ragged, groupBy: [.tag("prompt")]).reduce(0) { $0 + $1.summary.costNanos }
            #expect(raggedTotal == (try await store.rawSummary(filter: ragged)).costNanos)
            #expect(try await store.summaries(filter: ragged, groupBy: [.tag("prompt")]).allSatisfy { $0.summary.requests > 0 })
            // The rebuild draws the same bound: first values by hour of first use.
            let before = try await rows(database)
            try await store.rebuildRollups()
            #expect(try await rows(database) == before)
        }
    }

    @Test("retention prunes tag rollups with the other rollups of their granularity")
    func retention() async throws {
        try await withTemporaryDatabase { database, _ in
            try await configure(["feature"], database)
            try await store(Fixtures.mixedEvents(count: 500, days: 3), in: database)
            let store = UsageStore(database: database)
            _ = try await store.prune(eventsBefore: nil, hourlyBefore: Self.day0 + Self.day, dailyBefore: Self.day0 + 2 * Self.day)
            let oldest = try await database.pool.read { db in
                (
                    try Int64.fetchOne(db, sql: "SELECT MIN(bucket_start) FROM rollup_hourly_tag"),
                    try Int64.fetchOne(db, sql: "SELECT MIN(bucket_start) FROM rollup_daily_tag")
                )
            }
            #expect(oldest.0 == Self.day0 + Self.day)
            #expect(oldest.1 == Self.day0 + 2 * Self.day)
        }
    }
}
