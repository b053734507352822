import Testing
import TollgateCore
@testable import TollgateStorage

@Suite("Repricing a period")
struct RepriceTests {
    @Test("changed events are rewritten and the period's rollups follow; others and other periods are untouched")
    func reprice() async throws {
        try await withTemporaryDatabase { database, _ in
            let writer = UsageWriter.manual(database)
            let events = Fixtures.mixedEvents(count: 600, days: 3)
            for event in events { writer.record(event) }
            try await writer.flush()
            let store = UsageStore(database: database)
            let day1 = Fixtures.day0 + Fixtures.day
            let inRange = events.filter { $0.startedAtMs >= day1 && $0.startedAtMs < day1 + Fixtures.day }
            let doubled = inRange.filter { $0.model == "gpt-4o" }
            let outside = try await store.summary(filter: StatsFilter(from: Fixtures.day0, to: day1))

            let dry = try await store.reprice(from: day1, to: day1 + Fixtures.day, dryRun: true) { event in
                var e = event
                if e.model == "gpt-4o" { e.costNanos *= 2 }
                return e
            }
            #expect(dry.changed == doubled.count && dry.examined == inRange.count)
            #expect(try await store.summary(filter: StatsFilter(from: day1, to: day1 + Fixtures.day)).costNanos == inRange.reduce(0) { $0 + $1.costNanos })

            let result = try await store.reprice(from: day1, to: day1 + Fixtures.day) { event in
                var e = event
                if e.model == "gpt-4o" {
                    e.costNanos *= 2
                    e.pricingVersion = "v2"
                }
                return e
            }
            let extra = doubled.reduce(0) { $0 + $1.costNanos }
            #expect(result.changed == doubled.count)
            #expect(result.costAfterNanos - result.costBeforeNanos == extra)
            let after = try await store.summary(filter: StatsFilter(from: day1, to: day1 + Fixtures.day))
            #expect(after.costNanos == inRange.reduce(0) { $0 + $1.costNanos } + extra)
            #expect(after == (try await store.rawSummary(filter: StatsFilter(from: day1, to: day1 + Fixtures.day))))
            #expect(try await store.summary(filter: StatsFilter(from: Fixtures.day0, to: day1)) == outside)
            #expect(try await store.event(requestID: doubled[0].requestID)?.pricingVersion == "v2")
        }
    }
}
