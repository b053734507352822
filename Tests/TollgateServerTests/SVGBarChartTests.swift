import Testing
@testable import TollgateServer
import TollgateStorage
import TollgateCore
import Foundation

@Suite("The dashboard's inline SVG bar chart and spend trend")
struct SVGBarChartTests {
    func bars(_ values: [Double]) -> [SVGBarChart.Bar] {
        values.enumerated().map { .init(label: "d\($0.offset)", value: $0.element, text: String($0.element)) }
    }

    @Test("bar heights are proportional to the values, the tallest under a 1-2-5 axis top")
    func proportional() {
        let chart = SVGBarChart(bars: bars([1, 2, 4, 0]), title: "t")
        let heights = chart.barHeights()
        #expect(heights[1] == 2 * heights[0])
        #expect(heights[2] == 4 * heights[0])
        #expect(heights[3] == 0)
        // The axis tops out at 5, so the 4 fills 80 % of the plot.
        #expect(abs(heights[2] - chart.plotHeight * 0.8) < 1e-9)
    }

    @Test("the axis top is the smallest 1, 2 or 5 × 10ⁿ at or above the largest value")
    func axisTop() {
        func top(_ value: Double) -> [Int]? { SVGBarChart.axisTop(value).map { [$0.mantissa, $0.exponent] } }
        #expect(top(0.0000216) == [5, -5])
        #expect(top(0.5) == [5, -1])
        #expect(top(1.01) == [2, 0])
        #expect(top(2) == [2, 0])
        #expect(top(7) == [1, 1])
        #expect(SVGBarChart.axisTop(0) == nil)
    }

    @Test("axis labels are plain decimals, never exponent notation")
    func decimals() {
        #expect(SVGBarChart.decimal(mantissa: 5, exponent: -5) == "0.00005")
        #expect(SVGBarChart.decimal(mantissa: 25, exponent: -1) == "2.5")
        #expect(SVGBarChart.decimal(mantissa: 50, exponent: -1) == "5")
        #expect(SVGBarChart.decimal(mantissa: 25, exponent: 2) == "2500")
        #expect(SVGBarChart.decimal(mantissa: 0, exponent: -3) == "0")
    }

    @Test("each drawn bar carries its bucket and exact value; labels are escaped")
    func rendersBars() {
        let chart = SVGBarChart(
            bars: [.init(label: "<d1>", value: 0.0000216, text: "0.0000216"), .init(label: "d2", value: 0, text: "0")], title: "Spend & <more>")
        let svg = chart.render()
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        #expect(svg.components(separatedBy: "<rect").count - 1 == 1)
        #expect(svg.contains(#"data-bucket="&lt;d1&gt;" data-value="0.0000216""#))
        #expect(svg.contains(#"aria-label="Spend &amp; &lt;more&gt;""#))
        #expect(svg.contains(">$0.00005</text>"))
        #expect(!svg.contains("<d1>"))
    }

    @Test("an empty or all-zero chart draws no bars and says there was no spend")
    func empty() {
        for chart in [SVGBarChart(bars: [], title: "t"), SVGBarChart(bars: bars([0, 0]), title: "t")] {
            let svg = chart.render()
            #expect(!svg.contains("<rect"))
            #expect(svg.contains("No spend in this range"))
            #expect(chart.barHeights().allSatisfy { $0 == 0 })
        }
    }

    /// A timeseries answer over `[from, to)` with the given costs (nano-dollars) by bucket label.
    static func trend(_ granularity: TimeseriesGranularity, tz: String = "UTC", from: Int64, to: Int64, costs: [String: Int64]) -> TimeseriesAnswer {
        TimeseriesAnswer(
            granularity: granularity, tz: tz, groupBy: nil,
            data: costs.map { bucket, nanos in
                var summary = StatsSummary()
                (summary.requests, summary.costNanos) = (1, nanos)
                return GroupSummary(bucket: bucket, group: nil, summary, activeUsers: 0, feedback: FeedbackTotals())
            },
            from: UTCTime.iso(from), to: UTCTime.iso(to))
    }

    @Test("the trend has one bar per UTC day of the range, empty days as zero")
    func dailyTrend() {
        let day: Int64 = 86_400_000
        let from = 20_000 * day + 5 * 3_600_000  // mid-morning of a day
        let bars = DashboardTrend.bars(Self.trend(.day, from: from, to: from + 3 * day, costs: [UTCTime.iso(20_001 * day): 1_500_000_000]), \.costUSD)
        #expect(bars.count == 4)
        #expect(bars.map(\.text) == ["0", "1.5", "0", "0"])
        #expect(bars[0].label == String(UTCTime.iso(20_000 * day).prefix(10)))
    }

    @Test("a short range is charted by the hour, a very long one keeps its latest buckets")
    func hourlyAndCapped() {
        let hour: Int64 = 3_600_000
        let hourly = DashboardTrend.bars(Self.trend(.hour, from: 10 * hour + 1000, to: 13 * hour, costs: [:]), \.costUSD)
        #expect(hourly.count == 3)
        let long = DashboardTrend.bars(Self.trend(.day, from: 0, to: 5000 * 86_400_000, costs: [:]), \.costUSD)
        #expect(long.count == DashboardTrend.maxBars)
        #expect(long.last?.label == String(UTCTime.iso(4999 * 86_400_000).prefix(10)))
    }

    @Test("in a time zone, bars are local days, the one of the clock change included once")
    func localDays() {
        // 2026-10-25 is 25 hours long in Berlin (CEST → CET); the range is three local days.
        let from: Int64 = 1_792_879_200_000  // 2026-10-24T22:00:00Z = 2026-10-25 00:00 CEST
        let to: Int64 = 1_793_142_000_000  // 2026-10-27T23:00:00Z = 2026-10-28 00:00 CET
        let bars = DashboardTrend.bars(
            Self.trend(.day, tz: "Europe/Berlin", from: from, to: to, costs: ["2026-10-26T00:00:00+01:00": 2_000_000_000]), \.costUSD)
        #expect(bars.map(\.label) == ["2026-10-25", "2026-10-26", "2026-10-27"])
        #expect(bars.map(\.text) == ["0", "2", "0"])
    }
}
