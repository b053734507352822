/// ISO-8601 UTC text for Unix milliseconds, without Foundation: `2026-11-21T10:00:00Z`.
package enum UTCTime {
    package static func iso(_ ms: Int64) -> String {
        let seconds = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000)
        let days = seconds >= 0 ? seconds / 86_400 : -((-seconds + 86_399) / 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = BudgetPeriod.civil(fromDays: days)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        // ISO-8601 years have four digits: 0100, not 100 (a query may reach back that far).
        let yearText = year >= 0 && year < 1000 ? String(String(year + 10_000).dropFirst()) : "\(year)"
        return "\(yearText)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))Z"
    }

    /// As `iso`, with milliseconds: `2026-11-21T10:00:00.042Z`.
    package static func isoMillis(_ ms: Int64) -> String {
        let millis = ((ms % 1000) + 1000) % 1000
        let digits = String(millis + 1000).dropFirst()
        return String(iso(ms).dropLast()) + "." + digits + "Z"
    }
}
