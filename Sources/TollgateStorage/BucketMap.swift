/// Where each rollup bucket counts when a timeseries' buckets are coarser than the rollups' or
/// shifted from them (weeks, months, days in another time zone): the starts of those buckets,
/// ascending; a rollup bucket counts in the last one that starts at or before it.
///
/// The same map runs in Swift (summing rollup rows) and in SQL (`sqlExpression`, so distinct
/// users are counted per final bucket by SQLite instead of gathered per row in Swift).
package struct BucketMap: Sendable {
    /// Ascending bucket starts (Unix ms), at least one.
    package let starts: [Int64]

    package init(starts: [Int64]) {
        precondition(!starts.isEmpty, "a bucket map needs a bucket")
        self.starts = starts
    }

    /// The start of the bucket holding `ms` (the first bucket's for anything before it).
    package func callAsFunction(_ ms: Int64) -> Int64 {
        starts[max(firstIndex(after: ms) - 1, 0)]
    }

    /// The first bucket start after `ms`, nil past the last one.
    package func start(after ms: Int64) -> Int64? {
        let index = firstIndex(after: ms)
        return index < starts.count ? starts[index] : nil
    }

    /// The index of the first start after `ms` (`starts.count` if none): a binary search.
    private func firstIndex(after ms: Int64) -> Int {
        var (low, high) = (0, starts.count)  // invariant: the answer is in [low, high]
        while low < high {
            let middle = (low + high) / 2
            if starts[middle] <= ms { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The same map as an SQL expression of `column`: a binary search of nested CASEs, so a row
    /// costs log2(buckets) comparisons whatever the range.
    func sqlExpression(of column: String) -> String {
        func search(_ low: Int, _ high: Int) -> String {
            if high - low == 1 { return String(starts[low]) }
            let middle = (low + high) / 2
            return "CASE WHEN \(column) < \(starts[middle]) THEN \(search(low, middle)) ELSE \(search(middle, high)) END"
        }
        return search(0, starts.count)
    }
}
