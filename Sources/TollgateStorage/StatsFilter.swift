import GRDB

/// Which usage a stats query covers (SPEC §9 filters). Every dimension is an exact match; nil
/// matches everything.
///
/// The time range is half-open, `from <= started_at < to`, in Unix milliseconds, so consecutive
/// ranges never count a request twice. The server turns ISO-8601 and relative times (`24h`) into
/// these and applies the default (the last 30 days).
package struct StatsFilter: Sendable, Equatable {
    /// Inclusive start, Unix ms; nil = from the beginning.
    package var from: Int64?
    /// Exclusive end, Unix ms; nil = up to now and beyond.
    package var to: Int64?
    package var org: String?
    package var team: String?
    package var user: String?
    /// A key id (`key_…` or `pt_…`).
    package var key: String?
    package var provider: String?
    package var model: String?
    /// `tag.<name>=value` filters, names lower-cased; read from the tag's rollups when it is
    /// configured and the query names nothing else but the org (`TagRollups`), else from raw events.
    package var tags: [String: String]
    // SPEC §13's filters: `session` reads raw events, the others the department and outcome rollups.
    package var department: String?
    package var session: String?
    package var endpoint: String?
    package var outcome: String?
    package var status: Int?
    /// One request (`/admin/usage` only).
    package var requestID: String?

    package init(
        from: Int64? = nil, to: Int64? = nil, org: String? = nil, team: String? = nil, user: String? = nil,
        key: String? = nil, provider: String? = nil, model: String? = nil, tags: [String: String] = [:],
        department: String? = nil, session: String? = nil, endpoint: String? = nil, outcome: String? = nil, status: Int? = nil,
        requestID: String? = nil
    ) {
        self.department = department
        self.session = session
        self.endpoint = endpoint
        self.outcome = outcome
        self.status = status
        self.requestID = requestID
        self.from = from
        self.to = to
        self.org = org
        self.team = team
        self.user = user
        self.key = key
        self.provider = provider
        self.model = model
        self.tags = tags
    }
}

extension StatsFilter {
    /// The dimensions this filter restricts (tags aside), each with its value.
    var namedValues: [(dimension: StatsDimension, value: DatabaseValueConvertible)] {
        let values: [(StatsDimension, DatabaseValueConvertible?)] = [
            (.org, org), (.key, key), (.team, team), (.user, user), (.provider, provider), (.model, model),
            (.department, department), (.session, session), (.endpoint, endpoint), (.outcome, outcome), (.status, status),
        ]
        return values.compactMap { dimension, value in value.map { (dimension, $0) } }
    }

    /// The conditions on `usage_events` (or a table with its columns, as `feedback`): each named
    /// dimension, each tag, the request id, and with `timeColumn` the time range on it.
    func rawConditions(timeColumn: String? = nil) throws -> (conditions: [String], arguments: StatementArguments) {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let timeColumn, let from {
            conditions.append("\(timeColumn) >= ?")
            arguments += [from]
        }
        if let timeColumn, let to {
            conditions.append("\(timeColumn) < ?")
            arguments += [to]
        }
        for (dimension, value) in namedValues {
            conditions.append("\(dimension == .status ? "status" : dimension.rawColumn) = ?")
            arguments += [value]
        }
        for (name, value) in tags.sorted(by: { $0.key < $1.key }) {
            conditions.append("json_extract(tags, \(try StatsQueryPlan.Segment.quotedTagPath(name))) = ?")
            arguments += [value]
        }
        if let requestID {
            conditions.append("request_id = ?")
            arguments += [requestID]
        }
        return (conditions, arguments)
    }
}
