import GRDB

extension UsageStore {
    /// `activeUsers` for buckets made of hours (local days, weeks and months, UTC weeks and months)
    /// over an hour-aligned range, read mostly from daily rollups.
    ///
    /// Each bucket is cut at UTC midnights into pieces of one UTC day. A whole day's users are its
    /// daily rows. A piece of more than half a day is its day's rows minus the hourly rows of the
    /// rest of the day: per-user request counts subtract exactly (a daily row is the sum of its
    /// hours'), so a user with a count left had a request in the piece. A smaller piece is its
    /// hourly rows. A month of Berlin days so reads about 11 000 rows instead of 136 000 hourly
    /// ones, and counts in Swift instead of sorting every row by a computed bucket in SQL.
    func activeUsersByDay(
        filter: StatsFilter, groupBy: [StatsDimension], detail: RollupDetail, from: Int64, to: Int64, buckets: BucketMap
    ) async throws -> [StatsGroupKey: Int64] {
        let hour = RollupGranularity.hour.milliseconds
        let day = RollupGranularity.day.milliseconds
        enum Part {
            case whole
            case hours(from: Int64, to: Int64)
            case dayWithout(from: Int64, to: Int64)
        }
        var pieces: [(bucket: Int64, day: Int64, part: Part)] = []
        var hourRanges: [(from: Int64, to: Int64)] = []
        var dayStart = StatsQueryPlan.floor(from, day)
        while dayStart < to {
            let dayEnd = dayStart + day
            var start = max(from, dayStart)
            let end = min(to, dayEnd)
            while start < end {
                let bucket = buckets(start)
                let next = buckets.start(after: start) ?? .max
                let pieceEnd = min(end, next)
                if start == dayStart, pieceEnd == dayEnd {
                    pieces.append((bucket, dayStart, .whole))
                } else if pieceEnd - start > day / 2 {
                    pieces.append((bucket, dayStart, .dayWithout(from: start, to: pieceEnd)))
                    if dayStart < start { hourRanges.append((dayStart, start)) }
                    if pieceEnd < dayEnd { hourRanges.append((pieceEnd, dayEnd)) }
                } else {
                    pieces.append((bucket, dayStart, .hours(from: start, to: pieceEnd)))
                    hourRanges.append((start, pieceEnd))
                }
                start = pieceEnd
            }
            dayStart = dayEnd
        }
        let daysNeeded = pieces.contains { if case .hours = $0.part { false } else { true } }
        var queries: [(granularity: RollupGranularity, sql: String, arguments: StatementArguments)] = []
        if daysNeeded {
            let segment = StatsQueryPlan.Segment(
                source: .rollup(RollupTable(granularity: .day, detail: detail)), from: StatsQueryPlan.floor(from, day), to: StatsQueryPlan.ceil(to, day))
            let query = try segment.sql(filter: filter, groupBy: groupBy, granularity: .day, selecting: .userRequests)
            queries.append((.day, query.sql, query.arguments))
        }
        for range in Self.merged(hourRanges) {
            let segment = StatsQueryPlan.Segment(source: .rollup(RollupTable(granularity: .hour, detail: detail)), from: range.from, to: range.to)
            let query = try segment.sql(filter: filter, groupBy: groupBy, granularity: .hour, selecting: .userRequests)
            queries.append((.hour, query.sql, query.arguments))
        }
        let groupCount = groupBy.count
        let (cuts, reads) = (pieces, queries)
        return try await read { db in
            // Per bucket start (a day's or an hour's): each group and user's requests.
            struct Member: Hashable {
                var group: [String?]
                var user: String
            }
            var days: [Int64: [Member: Int64]] = [:]
            var hours: [Int64: [Member: Int64]] = [:]
            for query in reads {
                let rows = try Row.fetchCursor(db, sql: query.sql, arguments: query.arguments)
                while let row = try rows.next() {
                    let start: Int64 = row[0]
                    let member = Member(group: (0..<groupCount).map { String.fromDatabaseValue(row[1 + $0]) }, user: row[1 + groupCount])
                    let requests: Int64 = row[2 + groupCount]
                    if query.granularity == .day {
                        days[start, default: [:]][member, default: 0] += requests
                    } else {
                        hours[start, default: [:]][member, default: 0] += requests
                    }
                }
            }
            var users: [StatsGroupKey: Set<String>] = [:]
            func add(_ members: some Sequence<Member>, to bucket: Int64) {
                for member in members {
                    users[StatsGroupKey(bucketStart: bucket, values: member.group), default: []].insert(member.user)
                }
            }
            for piece in cuts {
                switch piece.part {
                case .whole:
                    if let members = days[piece.day] { add(members.keys, to: piece.bucket) }
                case .hours(let from, let to):
                    for start in stride(from: from, to: to, by: Int(hour)) {
                        if let members = hours[start] { add(members.keys, to: piece.bucket) }
                    }
                case .dayWithout(let from, let to):
                    var left = days[piece.day] ?? [:]
                    for start in stride(from: piece.day, to: piece.day + day, by: Int(hour)) where start < from || start >= to {
                        for (member, requests) in hours[start] ?? [:] { left[member, default: 0] -= requests }
                    }
                    add(left.filter { $0.value > 0 }.keys, to: piece.bucket)
                }
            }
            return users.mapValues { Int64($0.count) }
        }
    }

    /// Ranges sorted and joined where they touch or overlap.
    private static func merged(_ ranges: [(from: Int64, to: Int64)]) -> [(from: Int64, to: Int64)] {
        var merged: [(from: Int64, to: Int64)] = []
        for range in ranges.sorted(by: { $0.from < $1.from }) {
            if let last = merged.last, range.from <= last.to {
                merged[merged.count - 1].to = max(last.to, range.to)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}
