/// The bucket sizes of the rollup tables (see `RollupTable`).
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

    /// Start of the bucket holding `ms` (floor).
    package func bucketStart(_ ms: Int64) -> Int64 {
        let size = milliseconds
        return ms - ((ms % size) + size) % size
    }
}
