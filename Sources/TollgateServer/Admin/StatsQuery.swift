import Foundation
import Hummingbird
import TollgateCore
import TollgateStorage

/// A query the stats endpoints cannot answer: 400 `invalid_request` with this message.
package struct InvalidQuery: Error {
    package var message: String
    package init(_ message: String) { self.message = message }
}

/// An endpoint's query parameters, names percent-decoded (Hummingbird decodes only the values,
/// and `tag.<name>` filters need their names as sent).
package struct QueryParameters: Sendable {
    package var values: [String: String]

    package init(_ values: [String: String] = [:]) { self.values = values }

    init(_ request: Request) {
        var values: [String: String] = [:]
        for (name, value) in request.uri.queryParameters {
            values[String(name).removingPercentEncoding ?? String(name)] = String(value)
        }
        self.values = values
    }

    package subscript(name: String) -> String? { values[name] }

    /// An integer parameter in `1...max`, `default` when absent.
    func count(_ name: String, default value: Int, max: Int) throws(InvalidQuery) -> Int {
        guard let text = values[name] else { return value }
        guard let count = Int(text), count >= 1, count <= max else { throw InvalidQuery("'\(name)' must be 1 to \(max), got '\(text)'.") }
        return count
    }
}

/// The stats filters of SPEC §9 and §13 (from, to, org, team, user, key, provider, model,
/// department, session, endpoint, outcome, status, tag.<name>), as `/admin/stats`, its
/// drill-downs, the dashboard and `tollgate stats` all take them.
package struct StatsQuery: Codable, Sendable, Equatable {
    /// ISO-8601 or relative to now (`24h`, `7d`); default the last 30 days.
    package var from: String?
    package var to: String?
    package var org: String?
    package var team: String?
    package var user: String?
    package var key: String?
    package var provider: String?
    package var model: String?
    package var department: String?
    package var session: String?
    /// An `Endpoint` (`chat`, `messages`, …).
    package var endpoint: String?
    /// An `Outcome` (`ok`, `rate_limited`, …).
    package var outcome: String?
    /// The HTTP status Tollgate answered.
    package var status: Int?
    /// `tag.<name>=value` filters by lower-cased tag name.
    package var tags: [String: String]
    /// An IANA zone (`Europe/Berlin`) for plain dates in `from`/`to` and for timeseries buckets; nil is UTC.
    package var tz: String?

    package init(
        from: String? = nil, to: String? = nil, org: String? = nil, team: String? = nil, user: String? = nil, key: String? = nil,
        provider: String? = nil, model: String? = nil, department: String? = nil, session: String? = nil, endpoint: String? = nil,
        outcome: String? = nil, status: Int? = nil, tags: [String: String] = [:]
    ) {
        (self.from, self.to, self.org, self.team, self.user, self.key) = (from, to, org, team, user, key)
        (self.provider, self.model, self.department, self.session) = (provider, model, department, session)
        (self.endpoint, self.outcome, self.status, self.tags) = (endpoint, outcome, status, tags)
    }

    /// The filters among an endpoint's parameters; other parameters are the endpoint's own.
    package init(_ parameters: QueryParameters) throws(InvalidQuery) {
        let v = parameters.values
        var status: Int?
        if let text = v["status"] {
            guard let code = Int(text), (100...599).contains(code) else { throw InvalidQuery("'status' must be an HTTP status code (100 to 599), got '\(text)'.") }
            status = code
        }
        self.init(
            from: v["from"], to: v["to"], org: v["org"], team: v["team"], user: v["user"], key: v["key"],
            provider: v["provider"], model: v["model"], department: v["department"], session: v["session"], endpoint: v["endpoint"],
            outcome: v["outcome"], status: status)
        tz = v["tz"]
        for (name, value) in v where name.hasPrefix("tag.") { try addTag(String(name.dropFirst(4)), value) }
        try check()
    }

    /// Refuses an endpoint or outcome no request can have, naming the ones there are (a typo
    /// would otherwise answer an empty result that looks like no traffic).
    package func check() throws(InvalidQuery) {
        _ = try timeZone()
        if let endpoint, Endpoint(rawValue: endpoint) == nil {
            throw InvalidQuery("'endpoint' must be one of \(Endpoint.allCases.map(\.rawValue).joined(separator: ", ")), got '\(endpoint)'.")
        }
        if let outcome, Outcome(rawValue: outcome) == nil {
            throw InvalidQuery("'outcome' must be one of \(Outcome.allCases.map(\.rawValue).joined(separator: ", ")), got '\(outcome)'.")
        }
    }

    /// Adds the filter `tag.<name>=value`; the name is checked (`TagName`) and lower-cased.
    package mutating func addTag(_ name: String, _ value: String) throws(InvalidQuery) {
        let tag = name.lowercased()
        guard TagName.isValid(tag) else {
            throw InvalidQuery("'tag.\(name)' is not a valid tag filter: a tag name is \(TagName.rule), as in X-Tollgate-Tag-<Name>.")
        }
        tags[tag] = value
    }

    static let utc = TimeZone(identifier: "UTC")!

    /// The half-open time range these filters cover, in Unix milliseconds.
    package func range(now: Date = Date()) throws(InvalidQuery) -> (fromMs: Int64, toMs: Int64) {
        try TimeRange.parse(from: from, to: to, now: now, timeZone: try timeZone())
    }

    /// `tz` as a zone (UTC when absent).
    package func timeZone() throws(InvalidQuery) -> TimeZone {
        guard let tz else { return Self.utc }
        guard let zone = TimeZone(identifier: tz) else {
            throw InvalidQuery("'tz' must be an IANA time zone such as Europe/Berlin or America/New_York, got '\(tz)'.")
        }
        return zone
    }

    /// The storage filter over `range`, held to `principal`'s org (another org is 403).
    func filter(_ range: (fromMs: Int64, toMs: Int64), by principal: AdminPrincipal) throws -> StatsFilter {
        StatsFilter(
            from: range.fromMs, to: range.toMs, org: try principal.scope(org), team: team, user: user, key: key, provider: provider,
            model: model, tags: tags, department: department, session: session, endpoint: endpoint, outcome: outcome, status: status)
    }
}

/// `GET /admin/stats`: the filters, and `compare=previous` for the same filters over the equally
/// long range just before.
package struct SummaryQuery: Codable, Sendable, Equatable {
    package var filters: StatsQuery
    package var compareWithPrevious: Bool

    enum CodingKeys: String, CodingKey { case filters, compareWithPrevious = "compare_with_previous" }

    package init(filters: StatsQuery, compareWithPrevious: Bool = false) {
        self.filters = filters
        self.compareWithPrevious = compareWithPrevious
    }

    init(_ parameters: QueryParameters) throws(InvalidQuery) {
        let compare = parameters["compare"]
        guard compare == nil || compare == "previous" else { throw InvalidQuery("'compare' must be previous, got '\(compare!)'.") }
        self.init(filters: try StatsQuery(parameters), compareWithPrevious: compare != nil)
    }
}

/// The bucket of a timeseries (SPEC §13): weeks start on Monday; days, weeks and months at
/// midnight in the query's `tz`.
package enum TimeseriesGranularity: String, Codable, Sendable, CaseIterable {
    case hour, day, week, month
}

/// `GET /admin/stats/timeseries`: `granularity=hour|day|week|month` (default day), optional
/// `group_by`, and `tz` among the filters.
package struct TimeseriesQuery: Codable, Sendable, Equatable {
    package var filters: StatsQuery
    package var granularity: TimeseriesGranularity
    package var groupBy: StatsDimension?

    enum CodingKeys: String, CodingKey { case filters, granularity, groupBy = "group_by" }

    package init(filters: StatsQuery, granularity: TimeseriesGranularity = .day, groupBy: StatsDimension? = nil) {
        (self.filters, self.granularity, self.groupBy) = (filters, granularity, groupBy)
    }

    init(_ parameters: QueryParameters) throws(InvalidQuery) {
        let text = parameters["granularity"] ?? "day"
        guard let granularity = TimeseriesGranularity(rawValue: text) else {
            throw InvalidQuery("'granularity' must be hour, day, week or month, got '\(text)'.")
        }
        self.init(
            filters: try StatsQuery(parameters), granularity: granularity,
            groupBy: try parameters["group_by"].map { text throws(InvalidQuery) in try StatsDimension.parsing(text, field: "group_by") })
    }
}

/// What a breakdown's groups are sorted by, biggest first.
package enum BreakdownOrder: String, Codable, Sendable, CaseIterable {
    case cost, requests, tokens

    func metric(_ summary: StatsSummary) -> Int64 {
        switch self {
        case .cost: summary.costNanos
        case .requests: summary.requests
        case .tokens: summary.inputTokens + summary.outputTokens
        }
    }
}

/// `GET /admin/stats/breakdown`: `by` (required), `order` (default cost), `limit` (default 50).
package struct BreakdownQuery: Codable, Sendable, Equatable {
    package var filters: StatsQuery
    package var by: StatsDimension
    package var order: BreakdownOrder
    package var limit: Int

    package init(filters: StatsQuery, by: StatsDimension, order: BreakdownOrder = .cost, limit: Int = 50) {
        (self.filters, self.by, self.order, self.limit) = (filters, by, order, limit)
    }

    init(_ parameters: QueryParameters) throws(InvalidQuery) {
        guard let by = parameters["by"] else { throw InvalidQuery("'by' is required: \(StatsDimension.names).") }
        let order = parameters["order"] ?? "cost"
        guard let parsedOrder = BreakdownOrder(rawValue: order) else { throw InvalidQuery("'order' must be cost, requests or tokens, got '\(order)'.") }
        self.init(
            filters: try StatsQuery(parameters), by: try StatsDimension.parsing(by, field: "by"), order: parsedOrder,
            limit: try parameters.count("limit", default: 50, max: 10_000))
    }
}

/// `GET /admin/stats/forecast`: `history_days` (7…730, default 56) of daily cost before today.
package struct ForecastQuery: Codable, Sendable, Equatable {
    package var filters: StatsQuery
    package var historyDays: Int

    enum CodingKeys: String, CodingKey { case filters, historyDays = "history_days" }

    package init(filters: StatsQuery, historyDays: Int = 56) {
        self.filters = filters
        self.historyDays = historyDays
    }

    init(_ parameters: QueryParameters) throws(InvalidQuery) {
        let days = try parameters.count("history_days", default: 56, max: 730)
        guard days >= 7 else { throw InvalidQuery("'history_days' must be at least 7.") }
        self.init(filters: try StatsQuery(parameters), historyDays: days)
    }
}

/// `GET /admin/stats/errors`: the filters and `limit` (groups, default 100).
package struct ErrorsQuery: Codable, Sendable, Equatable {
    package var filters: StatsQuery
    package var limit: Int

    package init(filters: StatsQuery, limit: Int = 100) {
        self.filters = filters
        self.limit = limit
    }

    init(_ parameters: QueryParameters) throws(InvalidQuery) {
        self.init(filters: try StatsQuery(parameters), limit: try parameters.count("limit", default: 100, max: 10_000))
    }
}

/// `GET /admin/usage`: raw events newest first, `limit` ≤ 1000 (default 100), `cursor`;
/// `request_id` finds the event behind an `X-Tollgate-Request-Id`.
package struct UsageQuery: Codable, Sendable, Equatable {
    package var filters: StatsQuery
    package var requestID: String?
    package var limit: Int
    package var cursor: String?

    enum CodingKeys: String, CodingKey { case filters, requestID = "request_id", limit, cursor }

    package init(filters: StatsQuery, requestID: String? = nil, limit: Int = 100, cursor: String? = nil) {
        (self.filters, self.requestID, self.limit, self.cursor) = (filters, requestID, limit, cursor)
    }

    init(_ parameters: QueryParameters) throws(InvalidQuery) {
        self.init(
            filters: try StatsQuery(parameters), requestID: parameters["request_id"],
            limit: try parameters.count("limit", default: 100, max: 1000), cursor: parameters["cursor"])
    }
}

extension StatsDimension: Codable {
    /// The dimensions a query may name.
    static let names = named.map(\.parameter).joined(separator: ", ") + " or tag.<name>"

    /// The dimension `field` (`by`, `group_by`) names; a tag's name follows `TagName`'s rule.
    package static func parsing(_ text: String, field: String) throws(InvalidQuery) -> StatsDimension {
        guard let dimension = StatsDimension(parameter: text) else { throw InvalidQuery("'\(field)' must be \(names), got '\(text)'.") }
        if case .tag(let name) = dimension, !TagName.isValid(name) {
            throw InvalidQuery("'\(field)' names an invalid tag ('\(text)'): a tag name is \(TagName.rule).")
        }
        return dimension
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try Self.parsing(text, field: "dimension")
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(parameter)
    }
}

