import GRDB
import TollgateCore

/// One batch's rollup changes, aggregated in memory so each rollup row is written once per batch.
///
/// Events go into hourly totals; daily totals are folded from those at write time, so an event
/// is hashed once.
struct RollupAccumulator {
    private(set) var hourly: [RollupKey: StatsSummary] = [:]

    var isEmpty: Bool { hourly.isEmpty }

    mutating func add(_ event: UsageEvent) {
        let key = RollupKey(bucketStart: RollupGranularity.hour.bucketStart(event.startedAtMs), event: event)
        hourly[key, default: StatsSummary()].add(event)
    }

    /// The daily totals of everything added.
    func daily() -> [RollupKey: StatsSummary] {
        var daily: [RollupKey: StatsSummary] = [:]
        for (hourKey, totals) in hourly {
            var key = hourKey
            key.bucketStart = RollupGranularity.day.bucketStart(hourKey.bucketStart)
            daily[key, default: StatsSummary()].merge(totals)
        }
        return daily
    }

    /// Adds the totals to both rollup tables; call inside the batch's transaction.
    func write(to db: Database) throws {
        if hourly.isEmpty { return }
        try Self.upsert(hourly, into: .hour, db)
        try Self.upsert(daily(), into: .day, db)
    }

    private static func upsert(_ rows: [RollupKey: StatsSummary], into granularity: RollupGranularity, _ db: Database) throws {
        var statement = RawStatement(try db.cachedStatement(sql: granularity.upsertSQL))
        for (key, totals) in rows {
            try totals.bindUpsert(key: key, to: &statement)
            _ = try statement.execute(db)
        }
    }
}
