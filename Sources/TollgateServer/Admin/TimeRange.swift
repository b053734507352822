import Foundation
import TollgateCore

/// Parses SPEC §9's `from` / `to`: ISO-8601 (`2026-11-21T10:00:00Z`, or a date: midnight in
/// `timeZone`, SPEC §13 `tz`) or relative to now (`24h`, `7d`, `30m`, `90s`, `2w`). Default: the
/// last 30 days.
package enum TimeRange {
    package static func parse(
        from: String?, to: String?, now: Date = Date(), timeZone: TimeZone = .gmt
    ) throws(InvalidQuery) -> (fromMs: Int64, toMs: Int64) {
        let nowMs = Int64((now.timeIntervalSince1970 * 1000).rounded())
        var toMs = nowMs
        if let to { toMs = try instant(to, nowMs: nowMs, field: "to", timeZone: timeZone) }
        var fromMs = toMs - 30 * 86_400_000
        if let from { fromMs = try instant(from, nowMs: nowMs, field: "from", timeZone: timeZone) }
        guard fromMs < toMs else { throw InvalidQuery("'from' must be before 'to'.") }
        return (fromMs, toMs)
    }

    /// Instants outside years 1583…9999 (Unix ms) are refused: further out the arithmetic would
    /// overflow, and before 1583 Foundation's ISO-8601 parser reads dates in the Julian calendar
    /// while answers print the Gregorian one (1583-01-01 is the first whole Gregorian year).
    static let earliestMs: Int64 = -12_212_553_600_000
    static let latestMs: Int64 = 253_402_300_799_999

    static func instant(
        _ text: String, nowMs: Int64, field: String, relative: Bool = true, timeZone: TimeZone = .gmt
    ) throws(InvalidQuery) -> Int64 {
        let ms = try unbounded(text, nowMs: nowMs, field: field, relative: relative, timeZone: timeZone)
        guard (earliestMs...latestMs).contains(ms) else {
            throw InvalidQuery("'\(field)' must lie between the years 1583 and 9999; got '\(text)'.")
        }
        return ms
    }

    private static func unbounded(
        _ text: String, nowMs: Int64, field: String, relative: Bool, timeZone: TimeZone
    ) throws(InvalidQuery) -> Int64 {
        if relative, let unit = text.last, let amount = Int64(text.dropLast()), amount >= 0 {
            let unitMs: Int64? = switch unit {
            case "s": 1000
            case "m": 60_000
            case "h": 3_600_000
            case "d": 86_400_000
            case "w": 604_800_000
            default: nil
            }
            if let unitMs {
                let (span, overflow) = amount.multipliedReportingOverflow(by: unitMs)
                guard !overflow, span <= nowMs - earliestMs else {
                    throw InvalidQuery("'\(field)' must lie between the years 1583 and 9999; got '\(text)'.")
                }
                return nowMs - span
            }
        }
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        dateOnly.timeZone = timeZone
        for formatter in [full, fractional, dateOnly] {
            if let date = formatter.date(from: text) {
                let ms = (date.timeIntervalSince1970 * 1000).rounded()
                guard ms.isFinite, ms > Double(earliestMs) - 1, ms < Double(latestMs) + 1 else {
                    throw InvalidQuery("'\(field)' must lie between the years 1583 and 9999; got '\(text)'.")
                }
                return Int64(ms)
            }
        }
        throw InvalidQuery("'\(field)' must be ISO-8601 (2026-11-21T10:00:00Z) or relative (24h, 7d); got '\(text)'.")
    }

    /// ISO-8601 UTC text for Unix milliseconds.
    static func iso(_ ms: Int64) -> String { UTCTime.iso(ms) }
}
