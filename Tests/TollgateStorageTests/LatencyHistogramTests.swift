import Foundation
import Testing

@testable import TollgateStorage

@Suite("Latency histogram: buckets, stored form, merging, percentiles")
struct LatencyHistogramTests {
    @Test("every latency from 0.1 ms to 10 min is reported within 2.47 %")
    func bucketResolution() {
        var latency = 0.1
        while latency < 600_000 {
            let reported = LatencyHistogram.representativeMs(ofBucket: LatencyHistogram.bucket(forMs: latency))
            #expect(abs(reported - latency) / latency <= LatencyHistogram.maximumRelativeError + 1e-9)
            latency *= 1.0137
        }
        #expect(LatencyHistogram.maximumRelativeError < 0.025)
    }

    @Test("below 0.1 ms, non-finite and 10 min or more fall into the edge buckets")
    func edgeBuckets() {
        #expect(LatencyHistogram.bucket(forMs: 0) == 0)
        #expect(LatencyHistogram.bucket(forMs: -3) == 0)
        #expect(LatencyHistogram.bucket(forMs: .nan) == 0)
        #expect(LatencyHistogram.bucket(forMs: 0.1) == 1)
        #expect(LatencyHistogram.bucket(forMs: 599_999) == LatencyHistogram.regularBucketCount)
        #expect(LatencyHistogram.bucket(forMs: 600_000) == LatencyHistogram.overflowBucket)
        #expect(LatencyHistogram.bucket(forMs: .infinity) == LatencyHistogram.overflowBucket)
    }

    @Test("the stored form reads back to the same histogram")
    func roundTrip() throws {
        var random = SeededGenerator(seed: 7)
        var histogram = LatencyHistogram()
        for _ in 0..<5_000 { histogram.add(exp(Double.random(in: -4...14, using: &random))) }
        histogram.add(0.01)
        histogram.add(1e9)
        #expect(try LatencyHistogram(encoded: histogram.encoded) == histogram)
        #expect(try LatencyHistogram(encoded: LatencyHistogram().encoded).isEmpty)
        #expect(LatencyHistogram(latencies: [250]).encoded.count == 4)
    }

    @Test("bytes it did not write are rejected")
    func rejectsGarbage() {
        #expect(throws: StorageError.self) { try LatencyHistogram(encoded: Data([9, 1, 1])) }
        #expect(throws: StorageError.self) { try LatencyHistogram(encoded: Data([1, 0x80])) }
        #expect(throws: StorageError.self) { try LatencyHistogram(encoded: Data([1, 0xFF, 0x03, 1])) }
    }

    @Test("merging histograms equals the histogram of all their latencies")
    func mergeIsLossless() {
        var random = SeededGenerator(seed: 11)
        let latencies = (0..<3_000).map { _ in exp(Double.random(in: -3...12, using: &random)) }
        var merged = LatencyHistogram()
        for chunk in stride(from: 0, to: latencies.count, by: 250) {
            merged.merge(LatencyHistogram(latencies: latencies[chunk..<min(chunk + 250, latencies.count)]))
        }
        #expect(merged == LatencyHistogram(latencies: latencies))
        #expect(merged.totalCount == 3_000)
    }

    @Test("subtracting a histogram of some of the latencies leaves exactly the histogram of the rest")
    func subtractIsExact() {
        let latencies = (0..<2_000).map { exp(Double($0 % 97) / 9) }
        var all = LatencyHistogram(latencies: latencies[...])
        all.subtract(LatencyHistogram(latencies: latencies[..<1_500]))
        #expect(all == LatencyHistogram(latencies: latencies[1_500...]))
        #expect(all.encoded == LatencyHistogram(latencies: latencies[1_500...]).encoded)
        all.subtract(LatencyHistogram(latencies: latencies[1_500...]))
        #expect(all.isEmpty)
    }

    @Test("p50, p95 and p99 are within 5 % of the exact values on a log-normal distribution")
    func percentileAccuracy() throws {
        var random = SeededGenerator(seed: 3)
        // Log-normal around 800 ms with a long tail, as LLM latencies are.
        let latencies = (0..<20_000).map { _ -> Double in
            let u1 = Double.random(in: Double.ulpOfOne...1, using: &random)
            let u2 = Double.random(in: 0...1, using: &random)
            return 800 * exp(0.9 * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
        }
        let histogram = LatencyHistogram(latencies: latencies)
        for quantile in [0.5, 0.95, 0.99] {
            let exact = Fixtures.exactPercentile(latencies, quantile)
            let estimate = try #require(histogram.percentileMs(quantile))
            #expect(abs(estimate - exact) / exact <= 0.05)
            #expect(abs(estimate - exact) / exact <= LatencyHistogram.maximumRelativeError + 1e-9)
        }
        #expect(LatencyHistogram().percentileMs(0.5) == nil)
    }

    @Test("the SQL functions merge stored histograms and build them from raw latencies")
    func sqlFunctions() async throws {
        try await withTemporaryDatabase { database, _ in
            let a = LatencyHistogram(latencies: [1, 2, 3])
            let b = LatencyHistogram(latencies: [3, 400])
            let (union, fromLatencies, fromBlobs) = try await database.pool.read { db in
                (
                    try Data.fetchOne(db, sql: "SELECT tollgate_hist_union(?, ?)", arguments: [a.encoded, b.encoded]),
                    try Data.fetchOne(db, sql: "SELECT tollgate_hist(x) FROM (SELECT 1.0 AS x UNION ALL SELECT 2 UNION ALL SELECT 3.0 UNION ALL SELECT NULL)"),
                    try Data.fetchOne(db, sql: "SELECT tollgate_hist(h) FROM (SELECT ? AS h UNION ALL SELECT ?)", arguments: [a.encoded, b.encoded])
                )
            }
            var expected = a
            expected.merge(b)
            #expect(try LatencyHistogram(encoded: #require(union)) == expected)
            #expect(try LatencyHistogram(encoded: #require(fromLatencies)) == a)
            #expect(try LatencyHistogram(encoded: #require(fromBlobs)) == expected)
        }
    }
}
