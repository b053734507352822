/// A budget's period (SPEC §7): a UTC calendar day, week (Monday to Sunday), month, or all time.
///
/// Boundaries are computed on integer days (no Foundation calendar), so they are exact and fast.
package enum BudgetPeriod: String, Sendable, CaseIterable, Codable {
    case day, week, month, total

    private static let msPerDay: Int64 = 86_400_000

    /// Unix milliseconds at which the period containing `ms` starts (0 for `total`).
    package func start(containing ms: Int64) -> Int64 {
        let day = Self.floorDiv(ms, Self.msPerDay)
        switch self {
        case .day: return day * Self.msPerDay
        // 1970-01-01 was a Thursday: Monday is 3 days earlier.
        case .week: return (day - Self.floorMod(day + 3, 7)) * Self.msPerDay
        case .month:
            let (year, month, _) = Self.civil(fromDays: day)
            return Self.days(year: year, month: month, day: 1) * Self.msPerDay
        case .total: return 0
        }
    }

    /// Unix milliseconds at which the period that starts at `start` ends; nil for `total`.
    package func end(startingAt start: Int64) -> Int64? {
        switch self {
        case .day: return start + Self.msPerDay
        case .week: return start + 7 * Self.msPerDay
        case .month:
            let (year, month, _) = Self.civil(fromDays: Self.floorDiv(start, Self.msPerDay))
            let next = month == 12 ? (year + 1, 1) : (year, month + 1)
            return Self.days(year: next.0, month: next.1, day: 1) * Self.msPerDay
        case .total: return nil
        }
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
    private static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date of a day count since 1970-01-01 (`civil_from_days`).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
