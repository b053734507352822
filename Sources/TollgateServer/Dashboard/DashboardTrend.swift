import Foundation
import TollgateCore

/// The trend charts: one bar per hour or day of the range in the page's time zone, empty buckets
/// included as zero — the timeseries answer lists only buckets that have traffic.
enum DashboardTrend {
    /// At most this many bars (the range's most recent buckets), so a range of years stays a small page.
    static let maxBars = 1000

    /// Bars of `value` for each bucket of `trend` (a `/admin/stats/timeseries` answer).
    static func bars(_ trend: TimeseriesAnswer, _ value: (SummaryFields) -> Money) -> [SVGBarChart.Bar] {
        guard let zone = TimeZone(identifier: trend.tz), let from = instant(trend.from), let to = instant(trend.to),
            let buckets = try? TimeseriesBuckets(granularity: trend.granularity, timeZone: zone, named: trend.tz, range: (from, to))
        else { return [] }
        var values: [String: Money] = [:]
        for row in trend.data {
            if let bucket = row.bucket { values[bucket] = value(row.fields) }
        }
        var starts: [Int64] = []
        var start = buckets.bucketStart(containing: from)
        while start < to {
            starts.append(start)
            start = buckets.bucketStart(after: start)
        }
        return starts.suffix(maxBars).map { start in
            let label = buckets.label(start) ?? ""
            // The local date (and time, hourly) as the label's text shows it.
            let shown = trend.granularity == .hour ? String(label.dropFirst(5).prefix(11)).replacingOccurrences(of: "T", with: " ") : String(label.prefix(10))
            let money = values[label] ?? .zero
            return SVGBarChart.Bar(label: shown, value: Double(money.nanos) / 1e9, text: money.decimalString)
        }
    }

    private static func instant(_ iso: String) -> Int64? {
        try? TimeRange.instant(iso, nowMs: 0, field: "from", relative: false)
    }
}
