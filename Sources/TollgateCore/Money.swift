import Foundation

/// An exact amount of US dollars in integer nano-dollars (1e-9 USD).
///
/// Money never passes through binary floating point: sums are integer sums, and JSON gets the
/// decimal digits as a raw number (`0.000123456`), so every total equals the sum of its parts
/// to the last digit (SPEC §5).
package struct Money: Sendable, Equatable, Comparable, Hashable, CustomStringConvertible {
    package var nanos: Int64

    package init(nanos: Int64) { self.nanos = nanos }

    package static let zero = Money(nanos: 0)
    /// Nano-dollars in one dollar.
    package static let nanosPerDollar: Int64 = 1_000_000_000

    package static func + (a: Money, b: Money) -> Money { Money(nanos: a.nanos + b.nanos) }
    package static func - (a: Money, b: Money) -> Money { Money(nanos: a.nanos - b.nanos) }
    package static func += (a: inout Money, b: Money) { a.nanos += b.nanos }
    package static func -= (a: inout Money, b: Money) { a.nanos -= b.nanos }
    package static func < (a: Money, b: Money) -> Bool { a.nanos < b.nanos }

    /// Exact decimal USD in its shortest form: `0`, `12.5`, `0.000123456`, `-0.000000001`.
    ///
    /// Valid as a raw JSON number: the server writes it into JSON without quotes.
    package var decimalString: String { Self.decimalString(nanos) }

    package var description: String { decimalString }

    /// `decimalString` for a bare nano-dollar count.
    package static func decimalString(_ nanos: Int64) -> String { decimalString(nanos, decimals: 9) }

    /// `scaled` ÷ 10^`decimals` as exact decimal text, trailing zeros dropped (a price in
    /// pico-dollars per token is USD per million tokens with `decimals: 6`).
    package static func decimalString(_ scaled: Int64, decimals: Int) -> String {
        var unit: UInt64 = 1
        for _ in 0..<decimals { unit *= 10 }
        // `magnitude` is a UInt64, so Int64.min renders too.
        let magnitude = scaled.magnitude
        let whole = magnitude / unit
        var fraction = magnitude % unit
        var text = scaled < 0 ? "-" : ""
        text += String(whole)
        guard fraction != 0 else { return text }
        var digits = decimals
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let significant = String(fraction)
        text += "."
        text += String(repeating: "0", count: digits - significant.count)
        text += significant
        return text
    }

    /// Parses a decimal USD string with at most 9 fractional digits (`"10"`, `"0.25"`, `"-1.5"`).
    ///
    /// Returns nil for anything else (exponents, more digits than a nano-dollar holds, overflow),
    /// so a limit or a price is never silently rounded on the way in.
    package init?(decimal text: String) {
        guard let value = DecimalParser.scaled(text, decimals: 9) else { return nil }
        self.nanos = value
    }
}

/// Parses decimal strings into scaled integers without floating point.
package enum DecimalParser {
    /// `text` × 10^decimals as an integer; nil if malformed, if it has more fractional digits than
    /// `decimals` (trailing zeros included: `"1.50"` has two), or if it overflows `Int64`.
    package static func scaled(_ text: some StringProtocol, decimals: Int) -> Int64? {
        precondition((0...18).contains(decimals), "at most 18 decimals fit an Int64 scale")
        var utf8 = Substring(text).utf8[...]
        var negative = false
        if utf8.first == UInt8(ascii: "-") {
            negative = true
            utf8 = utf8.dropFirst()
        }
        var value: Int64 = 0
        var wholeDigits = 0
        var fractionDigits = 0
        var seenPoint = false
        for byte in utf8 {
            if byte == UInt8(ascii: ".") {
                guard !seenPoint else { return nil }
                seenPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            if seenPoint {
                fractionDigits += 1
                guard fractionDigits <= decimals else { return nil }
            } else {
                wholeDigits += 1
            }
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (added, o2) = shifted.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = added
        }
        // "1." and "." are malformed; ".5" is accepted as 0.5.
        guard wholeDigits + fractionDigits > 0, !seenPoint || fractionDigits > 0 else { return nil }
        for _ in fractionDigits..<decimals {
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = shifted
        }
        return negative ? -value : value
    }
}

/// Money in JSON is an exact decimal number (`0.000123456`), never a binary float: it is written
/// through `Decimal`, whose text is its exact digits, and read back the same way.
extension Money: Codable {
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let decimal = try container.decode(Decimal.self)
        guard let money = Money(decimal: "\(decimal)") else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(decimal) is not a USD amount with at most 9 decimals.")
        }
        self = money
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Decimal(scaled: nanos, decimals: 9))
    }
}

extension Money: JSONNumberText {
    package var jsonNumberText: String { decimalString }
}

extension Decimal {
    /// `scaled` × 10^-`decimals`, exactly (Decimal holds 38 digits): nano-dollars with 9, basis
    /// points as a fraction with 4. Built from the integer, not parsed from text, which made money
    /// a third of the time to encode a month of hourly stats.
    package init(scaled: Int64, decimals: Int) {
        self.init(sign: scaled < 0 ? .minus : .plus, exponent: -decimals, significand: Decimal(scaled.magnitude))
    }
}
