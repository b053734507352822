import Foundation
import TollgateCore

/// The spend trend: one bar per day (or hour) of the range, empty buckets included as zero —
/// the timeseries answer lists only buckets that have traffic.
enum DashboardTrend {
    /// At most this many bars (the range's most recent buckets), so a range of years stays a small page.
    static let maxBars = 1000

    /// Bars for `trend` (a `/admin/stats/timeseries` answer).
    static func bars(_ trend: TimeseriesAnswer) -> [SVGBarChart.Bar] {
        guard let from = instant(trend.from), let to = instant(trend.to) else { return [] }
        var costs: [String: String] = [:]
        for row in trend.data {
            if let bucket = row.bucket { costs[bucket] = row.fields.costUSD.decimalString }
        }
        return bars(hourly: trend.granularity == .hour, fromMs: from, toMs: to, costs: costs)
    }

    /// One bar per bucket from the one holding `fromMs` up to `toMs`; `costs` maps bucket starts
    /// (ISO-8601) to the exact dollar text.
    static func bars(hourly: Bool, fromMs: Int64, toMs: Int64, costs: [String: String]) -> [SVGBarChart.Bar] {
        let step: Int64 = hourly ? 3_600_000 : 86_400_000
        var start = hourly ? fromMs - ((fromMs % step) + step) % step : BudgetPeriod.day.start(containing: fromMs)
        let buckets = (toMs - start + step - 1) / step
        if buckets > Int64(maxBars) { start += (buckets - Int64(maxBars)) * step }
        var bars: [SVGBarChart.Bar] = []
        while start < toMs {
            let iso = UTCTime.iso(start)
            let label = hourly ? String(iso.dropFirst(5).prefix(11)).replacingOccurrences(of: "T", with: " ") : String(iso.prefix(10))
            let text = costs[iso] ?? "0"
            bars.append(.init(label: label, value: Double(text) ?? 0, text: text))
            start += step
        }
        return bars
    }

    private static func instant(_ iso: String) -> Int64? {
        try? TimeRange.instant(iso, nowMs: 0, field: "from", relative: false)
    }
}
