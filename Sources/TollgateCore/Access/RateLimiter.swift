import Synchronization

/// Requests-per-minute and tokens-per-minute limits per key (SPEC §4, §9), as token buckets.
///
/// A bucket holds up to one minute's allowance and refills continuously, so a key may burst to
/// its limit and then proceeds at the limit's pace. A request takes one request and its estimated
/// input tokens on admission; `settle` then charges the difference to the actual tokens, so a
/// balance may go negative and the next requests wait for it to refill.
package final class RateLimiter: Sendable {
    private struct Bucket {
        var requests: Double
        var tokens: Double
        var atMs: Int64
    }

    private let buckets = Mutex<[String: Bucket]>([:])
    package let clock: @Sendable () -> Int64

    package init(clock: @escaping @Sendable () -> Int64) {
        self.clock = clock
    }

    /// Admits one request of `keyID` and takes its share; else returns the seconds to wait (≥ 1).
    package func admit(keyID: String, rpm: Int?, tpm: Int?, estimatedTokens: Int) -> Int? {
        guard rpm != nil || tpm != nil else { return nil }
        let now = clock()
        return buckets.withLock { buckets in
            var bucket = buckets[keyID] ?? Bucket(requests: Double(rpm ?? 0), tokens: Double(tpm ?? 0), atMs: now)
            Self.refill(&bucket, rpm: rpm, tpm: tpm, now: now)
            var wait = 0.0
            if let rpm, bucket.requests < 1 { wait = max(wait, (1 - bucket.requests) * 60 / Double(rpm)) }
            let need = Double(min(max(estimatedTokens, 1), tpm ?? 0))
            if let tpm, bucket.tokens < need { wait = max(wait, (need - bucket.tokens) * 60 / Double(tpm)) }
            if wait > 0 {
                buckets[keyID] = bucket
                return max(1, Int(wait.rounded(.up)))
            }
            if rpm != nil { bucket.requests -= 1 }
            if tpm != nil { bucket.tokens -= Double(estimatedTokens) }
            buckets[keyID] = bucket
            return nil
        }
    }

    /// Charges the difference between the tokens a request used and those taken on admission.
    package func settle(keyID: String, tpm: Int?, estimatedTokens: Int, actualTokens: Int) {
        guard let tpm else { return }
        buckets.withLock { buckets in
            guard var bucket = buckets[keyID] else { return }
            // At most one minute of debt: a single huge answer cannot lock a key out for longer.
            bucket.tokens = max(-Double(tpm), bucket.tokens - Double(actualTokens - estimatedTokens))
            buckets[keyID] = bucket
        }
    }

    private static func refill(_ bucket: inout Bucket, rpm: Int?, tpm: Int?, now: Int64) {
        let minutes = Double(max(0, now - bucket.atMs)) / 60_000
        if let rpm { bucket.requests = min(Double(rpm), bucket.requests + minutes * Double(rpm)) }
        if let tpm { bucket.tokens = min(Double(tpm), bucket.tokens + minutes * Double(tpm)) }
        bucket.atMs = now
    }
}
