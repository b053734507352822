/// One of the rollup tables: a bucket size (`RollupGranularity`) times a detail (`RollupDetail`).
///
/// All of them hold the same counters (`UsageSQL.rollupCounterColumns`) and a latency histogram, are
/// written in the same transaction as the events they count (`RollupAccumulator`) and rebuilt together
/// (`UsageStore.rebuildRollups`), so any of them answers a range exactly.
struct RollupTable: Hashable, Sendable {
    var granularity: RollupGranularity
    var detail: RollupDetail

    static let hourly = RollupTable(granularity: .hour, detail: .full)
    static let daily = RollupTable(granularity: .day, detail: .full)
    static let hourlyByModel = RollupTable(granularity: .hour, detail: .model)
    static let dailyByModel = RollupTable(granularity: .day, detail: .model)
    static let hourlyByCaller = RollupTable(granularity: .hour, detail: .caller)
    static let dailyByCaller = RollupTable(granularity: .day, detail: .caller)
    static let hourlyByOrg = RollupTable(granularity: .hour, detail: .org)
    static let dailyByOrg = RollupTable(granularity: .day, detail: .org)
    static let hourlyByDepartment = RollupTable(granularity: .hour, detail: .department)
    static let dailyByDepartment = RollupTable(granularity: .day, detail: .department)
    static let hourlyByOutcome = RollupTable(granularity: .hour, detail: .outcome)
    static let dailyByOutcome = RollupTable(granularity: .day, detail: .outcome)

    /// Every table, each after its `source`: the order the writer and the rebuild fill them in.
    static let all: [RollupTable] = [
        .hourly, .daily, .hourlyByModel, .dailyByModel, .hourlyByCaller, .dailyByCaller, .hourlyByOrg, .dailyByOrg,
        .hourlyByDepartment, .dailyByDepartment, .hourlyByOutcome, .dailyByOutcome,
    ]

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
        case (.hour, .caller): "rollup_hourly_caller"
        case (.day, .caller): "rollup_daily_caller"
        case (.hour, .org): "rollup_hourly_by_org"
        case (.day, .org): "rollup_daily_by_org"
        case (.hour, .department): "rollup_hourly_department"
        case (.day, .department): "rollup_daily_department"
        case (.hour, .outcome): "rollup_hourly_outcome"
        case (.day, .outcome): "rollup_daily_outcome"
        }
    }

    /// The smallest finer table this one is the sum of (the writer folds it, the rebuild groups
    /// it): a daily table sums its hourly twin, an hourly one the full-detail hourly rows, except
    /// the per-org one, which sums the far fewer per-model rows. Nil for the hourly tables that
    /// keep a dimension the full-detail one does not, and for that one: they come from the events.
    var source: RollupTable? {
        switch (granularity, detail) {
        case (.hour, .full), (.hour, .department), (.hour, .outcome): nil
        case (.day, _): RollupTable(granularity: .hour, detail: detail)
        case (.hour, .model), (.hour, .caller): .hourly
        case (.hour, .org): .hourlyByModel
        }
    }

    /// `bucket_start` then the detail's dimension columns: the primary key.
    var keyColumns: [String] { ["bucket_start"] + detail.dimensionColumns }

    /// The upsert of this table (`UsageSQL.upsertRollup`), built once per table.
    var upsertSQL: String { Self.upserts[self]! }

    private static let upserts = Dictionary(uniqueKeysWithValues: all.map { ($0, UsageSQL.upsertRollup(table: $0)) })
}
