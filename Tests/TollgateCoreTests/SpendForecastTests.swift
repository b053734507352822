import Testing
@testable import TollgateCore

@Suite("Spend forecast")
struct SpendForecastTests {
    @Test("a linear trend with a weekly pattern and noise is recovered")
    func recoversTrend() throws {
        // 10 + 0.5·t dollars a day, weekends at −6, small deterministic noise; 56 days from a Monday.
        let weekly: [Double] = [1, 1, 1, 1, 1, -6, -6].map { $0 - (-7.0 / 7) }
        var seed: UInt64 = 7
        let values = (0..<56).map { t -> Double in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let noise = Double(seed >> 40) / Double(1 << 24) - 0.5  // ±0.5
            return 10 + 0.5 * Double(t) + weekly[t % 7] + noise
        }
        let fit = try #require(SpendForecast.fit(values, firstWeekday: 0))
        #expect(abs(fit.slope - 0.5) < 0.02)
        #expect(abs(fit.intercept - 10) < 0.6)
        #expect(abs((fit.seasonal[5] - fit.seasonal[0]) - (-7)) < 0.5)
        #expect(fit.rSquared > 0.98)
        // Next 7 days: 10 + 0.5·t for t = 56…62 plus a week of seasonal offsets (which sum to 0).
        let expected = (56..<63).reduce(0.0) { $0 + 10 + 0.5 * Double($1) }
        let week = fit.projection(days: 7)
        #expect(abs(week.total - expected) < 3)
        #expect(week.low <= week.total && week.total <= week.high)
    }

    @Test("a flat series projects its level; too short a history gives nothing")
    func flat() throws {
        let fit = try #require(SpendForecast.fit([Double](repeating: 4, count: 14), firstWeekday: 3))
        #expect(abs(fit.projection(days: 30).total - 120) < 1e-6)
        #expect(fit.rSquared == 1)
        #expect(SpendForecast.fit([1, 2, 3], firstWeekday: 0) == nil)
    }

    @Test("a falling trend never projects negative spend")
    func floored() throws {
        let fit = try #require(SpendForecast.fit((0..<14).map { 14 - Double($0) }, firstWeekday: 0))
        #expect(fit.projection(days: 90).total >= 0)
        #expect(fit.projection(days: 90).total < 1)
    }
}
