/// One row of a grouped stats query: a time bucket and/or a group, and its totals.
package struct StatsGroup: Sendable, Equatable {
    /// Start of the time bucket in Unix ms, when the query had a granularity.
    package var bucketStart: Int64?
    /// The value of each `groupBy` dimension, in order; nil where the request had none (no team,
    /// no user, tag absent).
    package var values: [String?]
    package var summary: StatsSummary

    package init(bucketStart: Int64?, values: [String?], summary: StatsSummary) {
        self.bucketStart = bucketStart
        self.values = values
        self.summary = summary
    }
}
