import Testing
@testable import TollgateCore

@Suite("Money: exact nano-dollars, rendered as raw JSON numbers")
struct MoneyFormatTests {
    @Test("renders the shortest exact decimal", arguments: [
        (Int64(0), "0"), (123_456, "0.000123456"), (12_500_000_000, "12.5"), (1, "0.000000001"),
        (1_000_000_000, "1"), (-1, "-0.000000001"), (-2_750_000_000, "-2.75"), (100_000, "0.0001"),
        (Int64.max, "9223372036.854775807"), (Int64.min, "-9223372036.854775808"),
    ])
    func rendering(nanos: Int64, text: String) {
        #expect(Money(nanos: nanos).decimalString == text)
        #expect(Money.decimalString(nanos) == text)
        #expect("\(Money(nanos: nanos))" == text)
    }

    @Test("parses decimal strings exactly and refuses what it cannot hold", arguments: [
        ("10", Int64?(10_000_000_000)), ("0.25", 250_000_000), ("-1.5", -1_500_000_000), (".5", 500_000_000),
        ("0.000000001", 1), ("0.0000000001", nil), ("1e3", nil), ("", nil), ("1.", nil), ("1.2.3", nil),
        ("abc", nil), ("99999999999", nil), (" 1", nil),
    ])
    func parsing(text: String, nanos: Int64?) {
        #expect(Money(decimal: text)?.nanos == nanos)
    }

    @Test("adds and subtracts as integers: a sum of many tiny amounts loses nothing")
    func arithmetic() {
        var total = Money.zero
        for _ in 0..<1_000_000 { total += Money(nanos: 1) }
        #expect(total.decimalString == "0.001")
        #expect((Money(nanos: 5) + Money(nanos: 7) - Money(nanos: 2)).nanos == 10)
        #expect(Money(nanos: 1) < Money(nanos: 2))
        // The classic binary floating point failure, 0.1 + 0.2, is exact here.
        #expect((Money(decimal: "0.1")! + Money(decimal: "0.2")!).decimalString == "0.3")
    }

    @Test("every rendering parses back to the same amount")
    func roundTrip() {
        for nanos: Int64 in [0, 1, 9, 10, 999_999_999, 1_000_000_001, 123_456_789_012, -42] {
            #expect(Money(decimal: Money(nanos: nanos).decimalString)?.nanos == nanos)
        }
    }
}
