import Foundation
import TollgateCore
import TollgateStorage

/// How a timeseries is cut into buckets of its granularity in its time zone (SPEC §13): which
/// rollup rows it is summed from, where each row's bucket starts, and how a bucket is labelled.
///
/// UTC hours and days are rollup buckets already. A week (from Monday) or a month in UTC is a sum
/// of whole UTC days. In another zone, local days start on a UTC hour boundary whenever the zone's
/// offset is whole hours, so they are sums of hourly rows; zones with half- or quarter-hour
/// offsets (Asia/Kolkata, Asia/Kathmandu, …) cannot be summed from hourly rows and are refused.
struct TimeseriesBuckets {
    let granularity: TimeseriesGranularity
    let calendar: Calendar
    /// The rollup buckets the rows come in.
    let source: RollupGranularity
    private let isUTC: Bool
    private let formatter: ISO8601DateFormatter

    private let range: (fromMs: Int64, toMs: Int64)

    init(granularity: TimeseriesGranularity, timeZone: TimeZone, named zoneName: String, range: (fromMs: Int64, toMs: Int64)) throws(InvalidQuery) {
        self.range = range
        let offsets = Self.offsets(of: timeZone, from: range.fromMs, to: range.toMs)
        guard offsets.allSatisfy({ $0 % 3600 == 0 }) else {
            throw InvalidQuery("'tz' \(zoneName) is offset from UTC by a fraction of an hour, which hourly rollups cannot split; use a whole-hour zone or UTC.")
        }
        var calendar = Calendar(identifier: .iso8601)  // weeks from Monday
        calendar.timeZone = timeZone
        self.granularity = granularity
        self.calendar = calendar
        self.zoneName = zoneName
        isUTC = offsets.allSatisfy { $0 == 0 }
        source = granularity == .hour || !isUTC ? .hour : .day
        formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = timeZone
    }

    /// The zone as the query named it (`UTC` by default).
    let zoneName: String

    /// Whether the rows are hourly rollups for buckets coarser than an hour.
    var needsHourlyRollups: Bool { source == .hour }

    /// Whether rollup buckets are summed into coarser ones.
    private var merges: Bool { !(granularity == .hour || (granularity == .day && source == .day)) }

    /// Maps a rollup bucket's start to the start of the bucket it counts in; nil when they are the same.
    var rebucket: BucketMap? {
        guard merges else { return nil }
        var starts = [bucketStart(containing: source.bucketStart(range.fromMs))]
        while starts.count < 200_000, case let next = bucketStart(after: starts[starts.count - 1]), next < range.toMs {
            starts.append(next)
        }
        return BucketMap(starts: starts)
    }

    /// Rows summed into this granularity's buckets, ordered by bucket then group.
    func merge(_ rows: [StatsGroup], rebucket: BucketMap?) -> [StatsGroup] {
        guard let rebucket else { return rows }
        var totals: [StatsGroupKey: StatsSummary] = [:]
        for row in rows {
            guard let start = row.bucketStart else { continue }
            totals[StatsGroupKey(bucketStart: rebucket(start), values: row.values), default: StatsSummary()].merge(row.summary)
        }
        return totals.sorted { $0.key < $1.key }.map { StatsGroup(bucketStart: $0.key.bucketStart, values: $0.key.values, summary: $0.value) }
    }

    /// The start of the bucket holding `ms`.
    func bucketStart(containing ms: Int64) -> Int64 { Self.bucketStart(containing: ms, granularity, calendar) }

    /// The start of the bucket after the one starting at `start` (a local day may be 23 or 25 hours).
    func bucketStart(after start: Int64) -> Int64 {
        let component: Calendar.Component = switch granularity {
        case .hour: .hour
        case .day: .day
        case .week: .weekOfYear
        case .month: .month
        }
        let date = Date(timeIntervalSince1970: Double(start) / 1000)
        guard let next = calendar.date(byAdding: component, value: 1, to: date) else { return start + 3_600_000 }
        return max(Int64((next.timeIntervalSince1970 * 1000).rounded()), start + 1)
    }

    /// The start (Unix ms) of the `granularity` bucket holding the instant `ms`.
    static func bucketStart(containing ms: Int64, _ granularity: TimeseriesGranularity, _ calendar: Calendar) -> Int64 {
        let date = Date(timeIntervalSince1970: Double(ms) / 1000)
        let start: Date = switch granularity {
        case .hour: date
        case .day: calendar.startOfDay(for: date)
        case .week: calendar.dateInterval(of: .weekOfYear, for: date)?.start ?? date
        case .month: calendar.dateInterval(of: .month, for: date)?.start ?? date
        }
        return Int64((start.timeIntervalSince1970 * 1000).rounded())
    }

    /// A bucket's start as ISO-8601: `Z` in UTC, the zone's offset otherwise (`2026-11-02T00:00:00+01:00`).
    func label(_ ms: Int64?) -> String? {
        guard let ms else { return nil }
        return isUTC ? UTCTime.iso(ms) : formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// The zone's UTC offsets (seconds) over the range: at its start and after each transition in it.
    private static func offsets(of zone: TimeZone, from: Int64, to: Int64) -> [Int] {
        var at = Date(timeIntervalSince1970: Double(from) / 1000)
        let end = Date(timeIntervalSince1970: Double(to) / 1000)
        var offsets = [zone.secondsFromGMT(for: at)]
        while let next = zone.nextDaylightSavingTimeTransition(after: at), next < end, offsets.count < 10_000 {
            offsets.append(zone.secondsFromGMT(for: next))
            at = next
        }
        return offsets
    }
}
