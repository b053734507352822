import GRDB

/// How a stats query over `[from, to)` is split between rollups and raw events so that its totals
/// are exact for any range and cheap for long ones.
///
/// - Whole UTC days inside the range come from a daily rollup table (unless the query asks for
///   hourly buckets);
/// - whole hours outside those days from an hourly one;
/// - the partial hours at the edges (a `from` or `to` not on an hour) from `usage_events`, read
///   through the `started_at` index: the part of the edge hour inside the range, or, when that is
///   more than half the hour, the whole hour from the rollups minus the raw events of the part
///   outside the range (a `subtracted` segment). So at most an hour of raw rows is read in all,
///   half an hour per edge;
/// - everything from `usage_events` when no rollup keeps what the query names (a session, a tag
///   not configured or beside another dimension).
///
/// The rollup tables are those of one `RollupDetail`, the coarsest that keeps every dimension the
/// query filters or groups by (`RollupDetail.coarsest`): per org, per model or per caller (a few to
/// a few hundred rows a day), else the full-detail ones (thousands of rows a day), or those of the
/// one configured tag the query names (`TagRollups`). Either way a rollup row with `bucket_start` in an aligned range `[a, b)` holds
/// exactly the events with `started_at` in `[a, b)`, so the parts add up to the same totals as
/// summing raw events.
struct StatsQueryPlan {
    enum Source: Equatable {
        case raw
        case rollup(RollupTable)
        /// The rollup of the one tag the query names (`TagRollups`).
        case tagRollup(TagRollupTable)
    }

    struct Segment: Equatable {
        var source: Source
        /// Inclusive start, nil = unbounded.
        var from: Int64?
        /// Exclusive end, nil = unbounded.
        var to: Int64?
        /// Its totals are taken out of the rollup segment that covers the same hour. Counts and
        /// money are integers and histograms counts per bucket, so the difference is exact.
        var subtracted = false
    }

    var segments: [Segment]

    /// The plan for `[from, to)`. `rawOnly` forces raw events; `allowDaily` is false when results
    /// are bucketed by hour; `detail` picks the rollup tables, or `tagged` the tag rollups (the
    /// across-orgs ones with `acrossOrgs`, for queries that neither filter nor group by org);
    /// `allowSubtraction` false reads every partial edge hour from raw events (distinct counts
    /// cannot be subtracted, nor raw values from a tag's overflow row).
    init(
        from: Int64?, to: Int64?, rawOnly: Bool, allowDaily: Bool, detail: RollupDetail = .full, tagged: Bool = false,
        acrossOrgs: Bool = false, allowSubtraction: Bool = true
    ) {
        func source(_ granularity: RollupGranularity) -> Source {
            tagged
                ? .tagRollup(TagRollupTable(granularity: granularity, acrossOrgs: acrossOrgs))
                : .rollup(RollupTable(granularity: granularity, detail: detail))
        }
        let hourly = source(.hour)
        let daily = source(.day)
        if let from, let to, from >= to {
            segments = []
            return
        }
        if rawOnly {
            segments = [Segment(source: .raw, from: from, to: to)]
            return
        }
        let hour = RollupGranularity.hour.milliseconds
        let day = RollupGranularity.day.milliseconds
        var hoursFrom = from.map { Self.ceil($0, hour) }
        var hoursTo = to.map { Self.floor($0, hour) }
        if let hoursFrom, let hoursTo, hoursFrom >= hoursTo {
            segments = [Segment(source: .raw, from: from, to: to)]
            return
        }
        var segments: [Segment] = []
        var end: Segment?
        if let from, let edge = hoursFrom, from < edge {
            if allowSubtraction, from - (edge - hour) < edge - from {
                hoursFrom = edge - hour
                segments.append(Segment(source: .raw, from: edge - hour, to: from, subtracted: true))
            } else {
                segments.append(Segment(source: .raw, from: from, to: edge))
            }
        }
        if let to, let edge = hoursTo, edge < to {
            if allowSubtraction, edge + hour - to < to - edge {
                hoursTo = edge + hour
                end = Segment(source: .raw, from: to, to: edge + hour, subtracted: true)
            } else {
                end = Segment(source: .raw, from: edge, to: to)
            }
        }
        let daysFrom = hoursFrom.map { Self.ceil($0, day) }
        let daysTo = hoursTo.map { Self.floor($0, day) }
        if !allowDaily || (daysFrom != nil && daysTo != nil && daysFrom! >= daysTo!) {
            segments.append(Segment(source: hourly, from: hoursFrom, to: hoursTo))
        } else {
            if let hoursFrom, let daysFrom, hoursFrom < daysFrom {
                segments.append(Segment(source: hourly, from: hoursFrom, to: daysFrom))
            }
            segments.append(Segment(source: daily, from: daysFrom, to: daysTo))
            if let hoursTo, let daysTo, daysTo < hoursTo {
                segments.append(Segment(source: hourly, from: daysTo, to: hoursTo))
            }
        }
        if let end { segments.append(end) }
        self.segments = segments
    }

    static func floor(_ value: Int64, _ size: Int64) -> Int64 {
        value - ((value % size) + size) % size
    }

    static func ceil(_ value: Int64, _ size: Int64) -> Int64 {
        let floored = floor(value, size)
        return floored == value ? value : floored + size
    }
}

extension StatsQueryPlan.Segment {
    /// The SELECT of this segment: group columns, then the `StatsSummary` columns, filtered and grouped.
    func sql(
        filter: StatsFilter, groupBy: [StatsDimension], granularity: RollupGranularity?, selecting: Selection = .summary
    ) throws -> (sql: String, arguments: StatementArguments) {
        var conditions: [String] = []
        var arguments = StatementArguments()
        var groupColumns: [String] = []
        let isRaw = source == .raw
        let timeColumn = isRaw ? "started_at" : "bucket_start"

        if let granularity {
            // A rollup's own buckets need no arithmetic, which keeps its primary-key order for GROUP BY.
            if source.granularity == granularity {
                groupColumns.append("bucket_start")
            } else {
                groupColumns.append(UsageSQL.bucketStart(timeColumn, size: granularity.milliseconds))
            }
        }
        if case .tagRollup(let table) = source {
            return try tagRollupSQL(table, filter: filter, groupBy: groupBy, groupColumns: groupColumns, selecting: selecting)
        }
        for dimension in groupBy {
            switch dimension {
            case .tag(let name): groupColumns.append("json_extract(tags, \(try Self.quotedTagPath(name)))")
            // Rollups store a missing team, user or department as ''; raw rows as NULL. Both read back as NULL.
            case .team, .user, .department: groupColumns.append(isRaw ? dimension.rawColumn : "NULLIF(\(dimension.rollupColumn), '')")
            default: groupColumns.append(isRaw ? dimension.rawColumn : dimension.rollupColumn)
            }
        }

        if let from {
            conditions.append("\(timeColumn) >= ?")
            arguments += [from]
        }
        if let to {
            conditions.append("\(timeColumn) < ?")
            arguments += [to]
        }
        // A rollup segment is planned only for filters its table keeps, which are plain columns there too.
        let named = try filter.rawConditions()
        conditions += named.conditions
        arguments += named.arguments

        let table: String
        let summaryColumns: String
        switch source {
        case .raw:
            table = "usage_events"
            summaryColumns = UsageSQL.rawSummaryColumns
        case .rollup(let rollup):
            table = rollup.name
            summaryColumns = UsageSQL.rollupSummaryColumns
        case .tagRollup: preconditionFailure("answered by tagRollupSQL")
        }
        // Rollups keep a missing user as '', raw rows as NULL (or '' from an empty header): neither
        // is a user, and `<> ''` excludes both (NULL <> '' is not true).
        let user = "\"user\""
        if selecting == .userCounts {
            conditions.append("\(user) <> ''")
            var sql = "SELECT \((groupColumns + ["COUNT(DISTINCT \(user))"]).joined(separator: ", ")) FROM \(table)"
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
            if !groupColumns.isEmpty { sql += " GROUP BY " + (1...groupColumns.count).map(String.init).joined(separator: ", ") }
            return (sql, arguments)
        }
        if selecting == .users || selecting == .userRequests {
            // One row per (groups…, user) row of the table, not deduplicated here: the caller counts
            // distinct users over every segment at once.
            conditions.append("\(user) <> ''")
            let columns = groupColumns + [user] + (selecting == .userRequests ? ["requests"] : [])
            var sql = "SELECT \(columns.joined(separator: ", ")) FROM \(table)"
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
            return (sql, arguments)
        }
        var sql = "SELECT \((groupColumns + [summaryColumns]).joined(separator: ", ")) FROM \(table)"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        if !groupColumns.isEmpty {
            sql += " GROUP BY " + (1...groupColumns.count).map(String.init).joined(separator: ", ")
        }
        return (sql, arguments)
    }

    /// A segment of the tag rollups: the rows of the one tag the query names (`TagRollups.tag`),
    /// a value filter matching its own rows only, and a grouping by the tag reading overflow rows
    /// as `TagRollups.overflowLabel` and rows without the tag as NULL.
    private func tagRollupSQL(
        _ table: TagRollupTable, filter: StatsFilter, groupBy: [StatsDimension], groupColumns: [String], selecting: Selection
    ) throws -> (sql: String, arguments: StatementArguments) {
        guard let tag = TagRollups.tag(answering: filter, groupBy: groupBy), selecting == .summary else {
            preconditionFailure("a tag rollup segment is planned only for a query TagRollups.tag answers")
        }
        var groupColumns = groupColumns
        for dimension in groupBy {
            groupColumns.append(dimension == .org ? "org" : TagRollups.groupValueExpression)
        }
        var conditions = ["tag = ?"]
        var arguments: StatementArguments = [tag]
        if let from {
            conditions.append("bucket_start >= ?")
            arguments += [from]
        }
        if let to {
            conditions.append("bucket_start < ?")
            arguments += [to]
        }
        if let org = filter.org {
            conditions.append("org = ?")
            arguments += [org]
        }
        if let value = filter.tags[tag] {
            conditions.append("kind = \(TagRollupKind.value.rawValue) AND value = ?")
            arguments += [value]
        }
        var sql = "SELECT \((groupColumns + [UsageSQL.rollupSummaryColumns]).joined(separator: ", ")) FROM \(table.name)"
        sql += " WHERE " + conditions.joined(separator: " AND ")
        if !groupColumns.isEmpty {
            sql += " GROUP BY " + (1...groupColumns.count).map(String.init).joined(separator: ", ")
        }
        return (sql, arguments)
    }

    /// What a segment's SELECT returns after its group columns.
    enum Selection: Equatable {
        /// The `StatsSummary` columns, grouped.
        case summary
        /// The user of each row, after its group columns (for `active_users`).
        case users
        /// Distinct users per group, for segments whose groups no other segment shares.
        case userCounts
        /// As `users`, each row with its request count (rollups only).
        case userRequests
    }

    /// The JSON path of a tag as an SQL string literal: `'$."name"'`.
    static func quotedTagPath(_ name: String) throws -> String {
        guard !name.isEmpty, !name.contains(where: { $0 == "\"" || $0 == "\\" || $0 == "'" || $0.isNewline }) else {
            throw StorageError(.invalidFilter, "tag name \(name.debugDescription) cannot be queried")
        }
        return "'$.\"\(name)\"'"
    }
}

extension StatsQueryPlan.Source {
    /// The bucket size of a rollup source; nil for raw events.
    var granularity: RollupGranularity? {
        switch self {
        case .raw: nil
        case .rollup(let table): table.granularity
        case .tagRollup(let table): table.granularity
        }
    }
}
