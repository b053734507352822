import Foundation

/// A mergeable latency histogram with fixed log-scale buckets, stored in each rollup row.
///
/// Resolution (the contract that percentiles from merged rollups rely on):
/// - bucket 0 holds latencies below 0.1 ms and reports them as 0.05 ms (absolute error < 0.05 ms);
/// - buckets 1…320 cover [0.1 ms, 600 000 ms) (10 minutes); bucket `i` is
///   [0.1·1.05^(i-1), 0.1·1.05^i) and reports its geometric midpoint, 0.1·1.05^(i-1)·√1.05, so any
///   latency in it is reported within √1.05 − 1 ≈ 2.47 % relative error;
/// - bucket 321 holds 10 minutes and more and reports exactly 600 000 ms.
///
/// Percentiles use the nearest-rank definition (the ⌈q·n⌉-th smallest latency). The bucket holding
/// that latency is found exactly, because counts are exact integers, so p50/p95/p99 merged from any
/// number of rollup rows are within 2.47 % of the exact value (for latencies from 0.1 ms to 10 min),
/// and merging is lossless: a histogram of merged rows equals the histogram of all their events.
///
/// Buckets are fixed forever: rows written by one version are merged by the next. Changing them
/// needs a new column and a rollup rebuild.
package struct LatencyHistogram: Sendable, Equatable {
    /// Lower edge of bucket 1, in milliseconds.
    package static let minimumMs = 0.1
    /// Lower edge of the overflow bucket, in milliseconds (10 minutes).
    package static let maximumMs = 600_000.0
    /// Ratio between the edges of consecutive buckets.
    package static let ratio = 1.05
    /// Number of regular buckets between `minimumMs` and `maximumMs`: ⌈ln(6·10⁶) / ln 1.05⌉.
    package static let regularBucketCount = 320
    /// Index of the overflow bucket; the underflow bucket is 0.
    package static let overflowBucket = regularBucketCount + 1
    /// The worst relative error of a reported latency between `minimumMs` and `maximumMs`.
    package static let maximumRelativeError = ratio.squareRoot() - 1

    private static let inverseLogRatio = 1 / log(ratio)
    private static let midpointFactor = ratio.squareRoot()
    /// First byte of the stored form, so a later encoding can be told apart.
    private static let formatVersion: UInt8 = 1

    /// Non-empty buckets, ascending by index.
    private(set) var buckets: [UInt16] = []
    /// Count of each entry of `buckets`.
    private(set) var counts: [UInt64] = []

    package init() {}

    /// The histogram of the given latencies.
    package init(latencies: some Sequence<Double>) {
        for latency in latencies { add(latency) }
    }

    package var isEmpty: Bool { buckets.isEmpty }

    /// Number of latencies recorded.
    package var totalCount: UInt64 { counts.reduce(0, &+) }

    /// The bucket a latency in milliseconds falls into; non-finite and negative values count as 0.
    package static func bucket(forMs latency: Double) -> Int {
        guard latency >= minimumMs else { return 0 }  // also NaN
        guard latency < maximumMs else { return overflowBucket }
        let index = Int((log(latency / minimumMs) * inverseLogRatio).rounded(.down)) + 1
        return min(max(index, 1), regularBucketCount)
    }

    /// The latency a bucket reports, in milliseconds.
    package static func representativeMs(ofBucket bucket: Int) -> Double {
        switch bucket {
        case ...0: minimumMs / 2
        case overflowBucket...: maximumMs
        default: minimumMs * pow(ratio, Double(bucket - 1)) * midpointFactor
        }
    }

    /// Records one latency.
    package mutating func add(_ latencyMs: Double) {
        add(count: 1, toBucket: UInt16(Self.bucket(forMs: latencyMs)))
    }

    /// Adds `count` latencies to a bucket.
    mutating func add(count: UInt64, toBucket bucket: UInt16) {
        // Appending in order is the common case when decoding and merging.
        if buckets.last.map({ $0 < bucket }) ?? true {
            buckets.append(bucket)
            counts.append(count)
            return
        }
        var low = 0
        var high = buckets.count
        while low < high {
            let middle = (low + high) / 2
            if buckets[middle] < bucket { low = middle + 1 } else { high = middle }
        }
        if low < buckets.count, buckets[low] == bucket {
            counts[low] &+= count
        } else {
            buckets.insert(bucket, at: low)
            counts.insert(count, at: low)
        }
    }

    /// Adds every latency of `other` to this histogram.
    package mutating func merge(_ other: LatencyHistogram) {
        if other.isEmpty { return }
        if isEmpty {
            self = other
            return
        }
        var mergedBuckets: [UInt16] = []
        var mergedCounts: [UInt64] = []
        mergedBuckets.reserveCapacity(buckets.count + other.buckets.count)
        mergedCounts.reserveCapacity(buckets.count + other.buckets.count)
        var i = 0
        var j = 0
        while i < buckets.count || j < other.buckets.count {
            if j == other.buckets.count || (i < buckets.count && buckets[i] < other.buckets[j]) {
                mergedBuckets.append(buckets[i])
                mergedCounts.append(counts[i])
                i += 1
            } else if i == buckets.count || other.buckets[j] < buckets[i] {
                mergedBuckets.append(other.buckets[j])
                mergedCounts.append(other.counts[j])
                j += 1
            } else {
                mergedBuckets.append(buckets[i])
                mergedCounts.append(counts[i] &+ other.counts[j])
                i += 1
                j += 1
            }
        }
        buckets = mergedBuckets
        counts = mergedCounts
    }

    /// Removes the latencies of `other`, which must all have been counted in this histogram (the
    /// requests of a sub-range of the rollups this histogram merged). Emptied buckets are dropped,
    /// so the result is the histogram of the remaining requests, stored form included.
    mutating func subtract(_ other: LatencyHistogram) {
        for (bucket, count) in zip(other.buckets, other.counts) {
            add(count: 0 &- count, toBucket: bucket)
        }
        var kept = 0
        for index in counts.indices where counts[index] != 0 {
            buckets[kept] = buckets[index]
            counts[kept] = counts[index]
            kept += 1
        }
        buckets.removeLast(buckets.count - kept)
        counts.removeLast(counts.count - kept)
    }

    /// The nearest-rank `quantile` (0…1) in milliseconds, or nil when the histogram is empty.
    package func percentileMs(_ quantile: Double) -> Double? {
        let total = totalCount
        guard total > 0 else { return nil }
        let clamped = min(max(quantile, 0), 1)
        let rank = max(1, UInt64((clamped * Double(total)).rounded(.up)))
        var seen: UInt64 = 0
        for (bucket, count) in zip(buckets, counts) {
            seen &+= count
            if seen >= rank { return Self.representativeMs(ofBucket: Int(bucket)) }
        }
        return Self.representativeMs(ofBucket: Int(buckets[buckets.count - 1]))
    }
}

// MARK: - Stored form

extension LatencyHistogram {
    /// The stored form: a version byte, then for each non-empty bucket in ascending order the gap
    /// from the previous bucket and the count, both LEB128 varints: 2 to 4 bytes for one latency,
    /// at most about 1 KB for a full histogram.
    package var encoded: Data {
        var bytes: [UInt8] = [Self.formatVersion]
        bytes.reserveCapacity(1 + buckets.count * 3)
        var previous = -1
        for (bucket, count) in zip(buckets, counts) {
            Self.appendVarint(UInt64(Int(bucket) - previous - 1), to: &bytes)
            Self.appendVarint(count, to: &bytes)
            previous = Int(bucket)
        }
        return Data(bytes)
    }

    /// Reads the stored form; throws on bytes it did not write.
    package init(encoded data: Data) throws {
        self.init()
        guard !data.isEmpty else { return }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard raw[0] == Self.formatVersion else {
                throw StorageError(.databaseFailed, "unknown latency histogram format \(raw[0])")
            }
            var offset = 1
            var previous = -1
            while offset < raw.count {
                let gap = try Self.readVarint(raw, &offset)
                let count = try Self.readVarint(raw, &offset)
                let bucket = previous + 1 + Int(clamping: gap)
                guard bucket <= Self.overflowBucket else {
                    throw StorageError(.databaseFailed, "latency histogram bucket \(bucket) out of range")
                }
                buckets.append(UInt16(bucket))
                counts.append(count)
                previous = bucket
            }
        }
    }

    /// Adds a stored histogram's counts into `dense` (indexed by bucket) without building one;
    /// false if the bytes are not a stored histogram.
    static func add(encoded raw: UnsafeRawBufferPointer, into dense: UnsafeMutableBufferPointer<UInt64>) -> Bool {
        guard !raw.isEmpty else { return true }
        guard raw[0] == Self.formatVersion else { return false }
        var offset = 1
        var previous = -1
        while offset < raw.count {
            guard let gap = try? Self.readVarint(raw, &offset), let count = try? Self.readVarint(raw, &offset) else {
                return false
            }
            let bucket = previous + 1 + Int(clamping: gap)
            guard bucket < dense.count else { return false }
            dense[bucket] &+= count
            previous = bucket
        }
        return true
    }

    /// A histogram from dense counts indexed by bucket.
    init(dense: [UInt64]) {
        self.init()
        for (bucket, count) in dense.enumerated() where count > 0 {
            buckets.append(UInt16(bucket))
            counts.append(count)
        }
    }

    private static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private static func readVarint(_ raw: UnsafeRawBufferPointer, _ offset: inout Int) throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < raw.count, shift < 64 {
            let byte = raw[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        throw StorageError(.databaseFailed, "truncated latency histogram")
    }
}
