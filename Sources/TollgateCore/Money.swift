/// An exact amount of US dollars in integer nano-dollars (1e-9 USD).
///
/// Money never passes through binary floating point: sums are integer sums, and JSON gets the
/// decimal digits as a raw number (`0.000123456`).
package struct Money: Sendable, Equatable, Comparable, Hashable {
    package var nanos: Int64

    package init(nanos: Int64) { self.nanos = nanos }

    package static let zero = Money(nanos: 0)

    package static func + (a: Money, b: Money) -> Money { Money(nanos: a.nanos + b.nanos) }
    package static func < (a: Money, b: Money) -> Bool { a.nanos < b.nanos }

    /// Exact decimal USD, shortest form: `0`, `12.5`, `-0.000000001`.
    package var decimalString: String { Self.decimalString(nanos) }

    package static func decimalString(_ nanos: Int64) -> String {
        let negative = nanos < 0
        let magnitude = nanos.magnitude
        let whole = magnitude / 1_000_000_000
        var fraction = magnitude % 1_000_000_000
        var text = (negative ? "-" : "") + String(whole)
        if fraction != 0 {
            var digits = 9
            while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
            let f = String(fraction)
            text += "." + String(repeating: "0", count: digits - f.count) + f
        }
        return text
    }

    /// Parses a decimal USD string with at most 9 fractional digits (`"10"`, `"0.25"`).
    package init?(decimal text: String) {
        guard let value = DecimalParser.scaled(text, decimals: 9) else { return nil }
        self.nanos = value
    }
}

/// Parses decimal strings into scaled integers without floating point.
package enum DecimalParser {
    /// `text` × 10^decimals as an integer; nil if malformed or with more fractional digits.
    package static func scaled(_ text: String, decimals: Int) -> Int64? {
        var s = Substring(text)
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholePart = parts.first, !wholePart.isEmpty || parts.count == 2,
            wholePart.allSatisfy(\.isASCIIDigit)
        else { return nil }
        let fractionPart = parts.count == 2 ? parts[1] : ""
        guard fractionPart.allSatisfy(\.isASCIIDigit), fractionPart.count <= decimals,
            parts.count == 1 || !fractionPart.isEmpty
        else { return nil }
        var scale: Int64 = 1
        for _ in 0..<decimals { scale *= 10 }
        guard let whole = wholePart.isEmpty ? 0 : Int64(wholePart) else { return nil }
        let paddedFraction = fractionPart + String(repeating: "0", count: decimals - fractionPart.count)
        let fraction = paddedFraction.isEmpty ? 0 : Int64(paddedFraction)!
        let (product, overflow) = whole.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        let value = product + fraction
        return negative ? -value : value
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
