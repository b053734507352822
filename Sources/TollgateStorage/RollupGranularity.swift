/// The two rollup tables and the size of their buckets.
package enum RollupGranularity: String, Sendable, CaseIterable {
    case hour
    case day

    /// Bucket length in milliseconds (UTC hours and days have no leap seconds in Unix time).
    package var milliseconds: Int64 {
        switch self {
        case .hour: 3_600_000
        case .day: 86_400_000
        }
    }

    var table: String {
        switch self {
        case .hour: "rollup_hourly"
        case .day: "rollup_daily"
        }
    }

    /// The rollup upsert for this table, built once.
    var upsertSQL: String {
        switch self {
        case .hour: Self.upsertHourly
        case .day: Self.upsertDaily
        }
    }

    private static let upsertHourly = UsageSQL.upsertRollup(table: RollupGranularity.hour.table)
    private static let upsertDaily = UsageSQL.upsertRollup(table: RollupGranularity.day.table)

    /// Start of the bucket holding `ms` (floor).
    package func bucketStart(_ ms: Int64) -> Int64 {
        let size = milliseconds
        return ms - ((ms % size) + size) % size
    }
}
