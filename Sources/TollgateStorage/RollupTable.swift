/// One of the four rollup tables: a bucket size (`RollupGranularity`) times a detail (`RollupDetail`).
///
/// All four hold the same counters (`UsageSQL.rollupCounterColumns`) and a latency histogram, are
/// written in the same transaction as the events they count (`RollupAccumulator`) and rebuilt together
/// (`UsageStore.rebuildRollups`), so any of them answers a range exactly.
struct RollupTable: Hashable, Sendable {
    var granularity: RollupGranularity
    var detail: RollupDetail

    static let hourly = RollupTable(granularity: .hour, detail: .full)
    static let daily = RollupTable(granularity: .day, detail: .full)
    static let hourlyByModel = RollupTable(granularity: .hour, detail: .model)
    static let dailyByModel = RollupTable(granularity: .day, detail: .model)

    /// Every table, finer ones first: the order the writer and the rebuild fill them in.
    static let all: [RollupTable] = [.hourly, .daily, .hourlyByModel, .dailyByModel]

    init(granularity: RollupGranularity, detail: RollupDetail) {
        self.granularity = granularity
        self.detail = detail
    }

    var name: String {
        switch (granularity, detail) {
        case (.hour, .full): "rollup_hourly"
        case (.day, .full): "rollup_daily"
        case (.hour, .model): "rollup_hourly_model"
        case (.day, .model): "rollup_daily_model"
        }
    }

    /// `bucket_start` then the detail's dimension columns: the primary key.
    var keyColumns: [String] { ["bucket_start"] + detail.dimensionColumns }

    /// The upsert of this table (`UsageSQL.upsertRollup`), built once per table.
    var upsertSQL: String { Self.upserts[self]! }

    private static let upserts = Dictionary(uniqueKeysWithValues: all.map { ($0, UsageSQL.upsertRollup(table: $0)) })
}
