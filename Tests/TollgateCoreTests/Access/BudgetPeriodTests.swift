import Testing
@testable import TollgateCore

@Suite("Budget periods and UTC times")
struct BudgetPeriodTests {
    let hour: Int64 = 3_600_000

    @Test("day, week (Monday) and month start on UTC calendar boundaries")
    func starts() {
        // Saturday 2026-11-21 15:00 UTC.
        let t = TestClock.ms((2026, 11, 21, 15))
        #expect(BudgetPeriod.day.start(containing: t) == TestClock.ms((2026, 11, 21, 0)))
        #expect(BudgetPeriod.week.start(containing: t) == TestClock.ms((2026, 11, 16, 0)))
        #expect(BudgetPeriod.month.start(containing: t) == TestClock.ms((2026, 11, 1, 0)))
        #expect(BudgetPeriod.total.start(containing: t) == 0)
        // A Monday starts its own week.
        #expect(BudgetPeriod.week.start(containing: TestClock.ms((2026, 11, 16, 0))) == TestClock.ms((2026, 11, 16, 0)))
    }

    @Test("period ends: months of 28, 29, 30 and 31 days, and the year's end")
    func ends() {
        let feb2028 = TestClock.ms((2028, 2, 1, 0))
        #expect(BudgetPeriod.month.end(startingAt: feb2028) == TestClock.ms((2028, 3, 1, 0)))
        let feb2027 = TestClock.ms((2027, 2, 1, 0))
        #expect(BudgetPeriod.month.end(startingAt: feb2027) == TestClock.ms((2027, 3, 1, 0)))
        let dec = TestClock.ms((2026, 12, 1, 0))
        #expect(BudgetPeriod.month.end(startingAt: dec) == TestClock.ms((2027, 1, 1, 0)))
        #expect(BudgetPeriod.day.end(startingAt: dec) == dec + 24 * hour)
        #expect(BudgetPeriod.week.end(startingAt: dec) == dec + 7 * 24 * hour)
        #expect(BudgetPeriod.total.end(startingAt: 0) == nil)
    }

    @Test("the last millisecond of a month belongs to it, the next to the next month")
    func boundary() {
        let next = TestClock.ms((2026, 12, 1, 0))
        #expect(BudgetPeriod.month.start(containing: next - 1) == TestClock.ms((2026, 11, 1, 0)))
        #expect(BudgetPeriod.month.start(containing: next) == next)
    }

    @Test("UTC ISO-8601 text")
    func iso() {
        #expect(UTCTime.iso(0) == "1970-01-01T00:00:00Z")
        #expect(UTCTime.iso(TestClock.ms((2026, 11, 21, 10)) + 61_999) == "2026-11-21T10:01:01Z")
        #expect(UTCTime.iso(TestClock.ms((2028, 2, 29, 23))) == "2028-02-29T23:00:00Z")
        #expect(UTCTime.isoMillis(TestClock.ms((2026, 11, 21, 10)) + 61_042) == "2026-11-21T10:01:01.042Z")
        #expect(UTCTime.isoMillis(-1) == "1969-12-31T23:59:59.999Z")
    }
}
