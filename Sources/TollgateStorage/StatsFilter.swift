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
    /// `tag.<name>=value` filters, names lower-cased; any tag filter makes the query read raw events.
    package var tags: [String: String]

    package init(
        from: Int64? = nil, to: Int64? = nil, org: String? = nil, team: String? = nil, user: String? = nil,
        key: String? = nil, provider: String? = nil, model: String? = nil, tags: [String: String] = [:]
    ) {
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
