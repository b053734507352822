import TollgateCore

/// Token buckets per caller for the admin API: failed sign-ins per client address, and requests per
/// admin principal. Pure: the time comes in with each call, so tests drive it with a fake clock.
///
/// A bucket holds one minute's allowance (`perMinute`) and refills continuously, so a caller may burst
/// to the limit and then goes on at the limit's pace. Memory stays bounded whatever the callers do:
/// the table keeps at most `capacity` buckets and forgets the least recently used one past that (an
/// attacker spraying addresses only pushes out addresses that are idle, and a forgotten address starts
/// again with a full bucket, which costs no more than the sprayed addresses already have).
struct AdminRateLimiter {
    private struct Bucket {
        var tokens: Double
        var atMs: Int64
    }

    /// Allowance per minute; 0 turns the limit off.
    let perMinute: Int
    private var buckets: LRUMap<Bucket>

    init(perMinute: Int, capacity: Int = 10_000) {
        self.perMinute = max(0, perMinute)
        self.buckets = LRUMap(maxCost: max(1, capacity))
    }

    /// Buckets held now (at most the capacity).
    var count: Int { buckets.count }

    /// Seconds `key` must wait before it may go on (≥ 1), or nil; takes nothing.
    mutating func retryAfter(_ key: String, nowMs: Int64) -> Int? {
        guard perMinute > 0, var bucket = buckets.get(key) else { return nil }
        refill(&bucket, nowMs: nowMs)
        buckets.set(key, bucket, cost: 1)
        return bucket.tokens >= Self.whole ? nil : wait(for: bucket)
    }

    /// Takes one token for `key`: nil when it may go on, else the seconds to wait (≥ 1).
    mutating func take(_ key: String, nowMs: Int64) -> Int? {
        guard perMinute > 0 else { return nil }
        var bucket = current(key, nowMs: nowMs)
        guard bucket.tokens >= Self.whole else {
            buckets.set(key, bucket, cost: 1)
            return wait(for: bucket)
        }
        bucket.tokens = max(0, bucket.tokens - 1)
        buckets.set(key, bucket, cost: 1)
        return nil
    }

    /// Charges one token to `key` (a failed attempt), never below empty; refuses nothing itself.
    mutating func charge(_ key: String, nowMs: Int64) {
        guard perMinute > 0 else { return }
        var bucket = current(key, nowMs: nowMs)
        bucket.tokens = max(0, bucket.tokens - 1)
        buckets.set(key, bucket, cost: 1)
    }

    private mutating func current(_ key: String, nowMs: Int64) -> Bucket {
        guard var bucket = buckets.get(key) else { return Bucket(tokens: Double(perMinute), atMs: nowMs) }
        refill(&bucket, nowMs: nowMs)
        return bucket
    }

    private func refill(_ bucket: inout Bucket, nowMs: Int64) {
        let minutes = Double(max(0, nowMs - bucket.atMs)) / 60_000
        bucket.tokens = min(Double(perMinute), bucket.tokens + minutes * Double(perMinute))
        bucket.atMs = max(bucket.atMs, nowMs)
    }

    /// One token, less the rounding that continuous refills in binary floating point leave behind.
    private static let whole = 1 - 1e-9

    /// Whole seconds until one token is back, from the wait rounded to the millisecond.
    private func wait(for bucket: Bucket) -> Int {
        let ms = Int(((1 - bucket.tokens) * 60_000 / Double(perMinute)).rounded())
        return max(1, (ms + 999) / 1000)
    }
}
