import Foundation

/// An inline SVG bar chart of one series (the dashboard's spend trend): no script and nothing
/// fetched, so the page renders offline; every bar carries its bucket and exact value as data
/// attributes and a tooltip, so a test (or a curious admin) reads the real figure, not a pixel.
struct SVGBarChart {
    struct Bar: Equatable {
        /// The bucket's name, e.g. `2026-11-21` (shown under the first, middle and last bars).
        var label: String
        /// The value plotted (heights are proportional to it; negative counts as 0).
        var value: Double
        /// The exact value as text, e.g. the API's decimal dollar string.
        var text: String
    }

    var bars: [Bar]
    /// Read by screen readers and used as the element's `aria-label`.
    var title: String
    /// Prefix of axis labels and tooltips, e.g. `$`.
    var unit = "$"
    var width = 960.0
    var height = 260.0

    static let marginLeft = 72.0, marginRight = 12.0, marginTop = 12.0, marginBottom = 40.0

    var plotHeight: Double { height - Self.marginTop - Self.marginBottom }
    var plotWidth: Double { width - Self.marginLeft - Self.marginRight }

    /// The top of the y axis: the smallest 1, 2 or 5 × 10ⁿ at or above the largest value, as a
    /// number and as exact decimal mantissa/exponent (so the axis reads `0.00005`, not `5e-05`);
    /// nil when no value is above zero.
    static func axisTop(_ largest: Double) -> (value: Double, mantissa: Int, exponent: Int)? {
        guard largest > 0, largest.isFinite else { return nil }
        var exponent = Int(log10(largest).rounded(.down))
        for mantissa in [1, 2, 5, 10] {
            let value = Double(mantissa) * pow(10, Double(exponent))
            if value >= largest * (1 - 1e-12) {
                if mantissa == 10 {
                    exponent += 1
                    return (pow(10, Double(exponent)), 1, exponent)
                }
                return (value, mantissa, exponent)
            }
        }
        return nil
    }

    /// Each bar's height in the plot area, proportional to its value (0 for an empty chart).
    func barHeights() -> [Double] {
        guard let top = Self.axisTop(bars.map(\.value).max() ?? 0) else { return bars.map { _ in 0 } }
        return bars.map { max($0.value, 0) / top.value * plotHeight }
    }

    /// The `<svg>` element.
    func render() -> String {
        let top = Self.axisTop(bars.map(\.value).max() ?? 0)
        let heights = barHeights()
        let baseline = Self.marginTop + plotHeight
        var svg = #"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(Self.n(width)) \#(Self.n(height))" role="img" aria-label="\#(HTML.escape(title))">"#
        svg += #"<line class="axis" x1="\#(Self.n(Self.marginLeft))" y1="\#(Self.n(baseline))" x2="\#(Self.n(width - Self.marginRight))" y2="\#(Self.n(baseline))"/>"#
        svg += #"<line class="axis" x1="\#(Self.n(Self.marginLeft))" y1="\#(Self.n(Self.marginTop))" x2="\#(Self.n(Self.marginLeft))" y2="\#(Self.n(baseline))"/>"#
        // Gridlines and labels at 0, half and the top of the axis.
        for step in 0...2 {
            let y = baseline - plotHeight * Double(step) / 2
            let label = top.map { Self.decimal(mantissa: $0.mantissa * 5 * step, exponent: $0.exponent - 1) } ?? "0"
            if step > 0, top != nil {
                svg += #"<line class="grid" x1="\#(Self.n(Self.marginLeft))" y1="\#(Self.n(y))" x2="\#(Self.n(width - Self.marginRight))" y2="\#(Self.n(y))"/>"#
            }
            if step == 0 || top != nil {
                svg += #"<text class="tick" x="\#(Self.n(Self.marginLeft - 6))" y="\#(Self.n(y + 4))" text-anchor="end">\#(HTML.escape(unit + label))</text>"#
            }
        }
        let slot = bars.isEmpty ? 0 : plotWidth / Double(bars.count)
        for (index, bar) in bars.enumerated() where heights[index] > 0 {
            let x = Self.marginLeft + slot * Double(index) + slot * 0.1
            svg += #"<rect class="bar" x="\#(Self.n(x))" y="\#(Self.n(baseline - heights[index]))" width="\#(Self.n(max(slot * 0.8, 0.5)))" height="\#(Self.n(heights[index]))" data-bucket="\#(HTML.escape(bar.label))" data-value="\#(HTML.escape(bar.text))"><title>\#(HTML.escape(bar.label + ": " + unit + bar.text))</title></rect>"#
        }
        for index in Self.labelled(count: bars.count) {
            let x = Self.marginLeft + slot * (Double(index) + 0.5)
            let anchor = bars.count == 1 ? "middle" : index == 0 ? "start" : index == bars.count - 1 ? "end" : "middle"
            let anchorX = anchor == "start" ? x - slot / 2 : anchor == "end" ? x + slot / 2 : x
            svg += #"<text class="tick" x="\#(Self.n(anchorX))" y="\#(Self.n(baseline + 18))" text-anchor="\#(anchor)">\#(HTML.escape(bars[index].label))</text>"#
        }
        if top == nil {
            svg += #"<text class="empty" x="\#(Self.n(Self.marginLeft + plotWidth / 2))" y="\#(Self.n(Self.marginTop + plotHeight / 2))" text-anchor="middle">No spend in this range</text>"#
        }
        return svg + "</svg>"
    }

    /// Which bars get an x label: the first, the middle and the last.
    static func labelled(count: Int) -> [Int] {
        switch count {
        case 0: []
        case 1: [0]
        case 2: [0, 1]
        default: [0, count / 2, count - 1]
        }
    }

    /// `mantissa` × 10^`exponent` as plain decimal text: (5, -5) → `0.00005`, (25, 2) → `2500`.
    static func decimal(mantissa: Int, exponent: Int) -> String {
        if mantissa == 0 { return "0" }
        var digits = String(mantissa)
        if exponent >= 0 { return digits + String(repeating: "0", count: exponent) }
        let places = -exponent
        if digits.count <= places { digits = String(repeating: "0", count: places - digits.count + 1) + digits }
        var whole = String(digits.dropLast(places))
        var fraction = String(digits.suffix(places))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        if whole.isEmpty { whole = "0" }
        return fraction.isEmpty ? whole : whole + "." + fraction
    }

    /// A coordinate with at most two decimals.
    static func n(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
