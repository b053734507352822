import NIOCore
import Synchronization
import Testing
@testable import TollgateServer

@Suite("Admin rate limiter: token buckets per caller, bounded, with the clock passed in")
struct AdminRateLimiterTests {
    @Test("a caller bursts to the per-minute allowance, then waits for the refill")
    func burstThenRefill() {
        var limiter = AdminRateLimiter(perMinute: 6)
        for _ in 0..<6 { #expect(limiter.take("master", nowMs: 0) == nil) }
        #expect(limiter.take("master", nowMs: 0) == 10)  // one token comes back every 10 s
        #expect(limiter.take("master", nowMs: 9_000) == 1)
        #expect(limiter.take("master", nowMs: 10_000) == nil)
        #expect(limiter.take("master", nowMs: 10_000) == 10)
        // A refused request takes nothing: after a full minute the whole allowance is back.
        for _ in 0..<6 { #expect(limiter.take("master", nowMs: 70_000) == nil) }
    }

    @Test("callers have buckets of their own")
    func perCaller() {
        var limiter = AdminRateLimiter(perMinute: 1)
        #expect(limiter.take("master", nowMs: 0) == nil)
        #expect(limiter.take("master", nowMs: 0) != nil)
        #expect(limiter.take("key_a", nowMs: 0) == nil)
    }

    @Test("failures are charged without refusing; a caller with no failures is never asked to wait")
    func chargeAndPeek() {
        var limiter = AdminRateLimiter(perMinute: 3)
        #expect(limiter.retryAfter("10.0.0.1", nowMs: 0) == nil)
        #expect(limiter.count == 0)  // peeking creates nothing
        for _ in 0..<2 { limiter.charge("10.0.0.1", nowMs: 0) }
        #expect(limiter.retryAfter("10.0.0.1", nowMs: 0) == nil)
        limiter.charge("10.0.0.1", nowMs: 0)
        #expect(limiter.retryAfter("10.0.0.1", nowMs: 0) == 20)
        // More failures while blocked do not push the wait past one refill.
        for _ in 0..<50 { limiter.charge("10.0.0.1", nowMs: 1_000) }
        #expect(limiter.retryAfter("10.0.0.1", nowMs: 1_000) == 20)
        #expect(limiter.retryAfter("10.0.0.1", nowMs: 21_000) == nil)
        #expect(limiter.retryAfter("10.0.0.2", nowMs: 21_000) == nil)
    }

    @Test("an address-spraying caller cannot grow the table past its capacity; the oldest go first")
    func bounded() {
        var limiter = AdminRateLimiter(perMinute: 1, capacity: 100)
        limiter.charge("victim", nowMs: 0)
        #expect(limiter.retryAfter("victim", nowMs: 0) != nil)
        for i in 0..<100_000 { limiter.charge("10.\(i >> 16).\(i >> 8 & 255).\(i & 255)", nowMs: 1) }
        #expect(limiter.count == 100)
        // The victim was the least recently seen, so it was forgotten: it starts again with a full bucket.
        #expect(limiter.retryAfter("victim", nowMs: 2) == nil)
        // The most recent ones are still held.
        #expect(limiter.retryAfter("10.1.134.159", nowMs: 2) != nil)
    }

    @Test("a clock that goes backwards never adds tokens or waits forever")
    func clockBackwards() {
        var limiter = AdminRateLimiter(perMinute: 2)
        #expect(limiter.take("k", nowMs: 60_000) == nil)
        #expect(limiter.take("k", nowMs: 60_000) == nil)
        #expect(limiter.take("k", nowMs: 1_000) == 30)
        #expect(limiter.take("k", nowMs: 90_000) == nil)
    }

    @Test("0 per minute turns the limit off")
    func off() {
        var limiter = AdminRateLimiter(perMinute: 0)
        for _ in 0..<1000 {
            limiter.charge("a", nowMs: 0)
            #expect(limiter.take("a", nowMs: 0) == nil)
        }
        #expect(limiter.retryAfter("a", nowMs: 0) == nil)
        #expect(limiter.count == 0)
    }

    @Test("the throttle answers 429 rate_limit_exceeded with Retry-After, per address and per principal")
    func throttle() {
        let now = Mutex<Int64>(0)
        let throttle = AdminThrottle(failedAuthPerMinute: 2, requestsPerMinute: 2, clock: { now.withLock { $0 } })
        #expect(throttle.refusingFailures(from: "1.2.3.4") == nil)
        throttle.recordFailure(from: "1.2.3.4")
        throttle.recordFailure(from: "1.2.3.4")
        let refusal = throttle.refusingFailures(from: "1.2.3.4")
        #expect(refusal?.status == .tooManyRequests)
        #expect(refusal?.code == "rate_limit_exceeded")
        #expect(refusal?.retryAfterSeconds == 30)
        #expect(throttle.refusingFailures(from: "1.2.3.5") == nil)
        now.withLock { $0 = 30_000 }
        #expect(throttle.refusingFailures(from: "1.2.3.4") == nil)

        #expect(throttle.refusingRequest(of: "master") == nil)
        #expect(throttle.refusingRequest(of: "master") == nil)
        let limited = throttle.refusingRequest(of: "master")
        #expect(limited?.status == .tooManyRequests && limited?.retryAfterSeconds == 30)
        #expect(limited?.message.contains("admin.requests_per_minute") == true)
        #expect(throttle.refusingRequest(of: "key_abc") == nil)
    }
}

@Suite("Admin auth: which refused tokens count as guesses")
struct AdminAuthGuessTests {
    @Test("only tokens that could be a guess at the master key are counted against the address")
    func guesses() throws {
        let now = Mutex<Int64>(0)
        let auth = AdminAuth(
            adminKey: "s3cret", access: nil,
            throttle: AdminThrottle(failedAuthPerMinute: 2, requestsPerMinute: 0, clock: { now.withLock { $0 } }))
        let wellFormed = "tg_" + String(repeating: "a", count: 32)
        for _ in 0..<5 { #expect(throws: AdminError.self) { try auth.authenticate(token: wellFormed, address: "a") } }
        #expect(try auth.authenticate(token: "s3cret", address: "a").principal == .master)
        for _ in 0..<2 { #expect(throws: AdminError.self) { try auth.authenticate(token: "guess", address: "a") } }
        do {
            _ = try auth.authenticate(token: "s3cret", address: "a")
            Issue.record("a blocked address signed in")
        } catch {
            #expect(error.status == .tooManyRequests)
        }
        #expect(try auth.authenticate(token: "s3cret", address: "b").principal == .master)
        #expect(AdminAuth.isTollgateKeyShaped(wellFormed))
        #expect(!AdminAuth.isTollgateKeyShaped("tg_short"))
        #expect(!AdminAuth.isTollgateKeyShaped("tg_" + String(repeating: "-", count: 32)))
    }
}

@Suite("Admin throttle: which address a client is counted under")
struct AdminClientAddressTests {
    @Test("IPv4 as it is, IPv6 by its /64, IPv4-mapped IPv6 as IPv4, no port")
    func addresses() throws {
        #expect(AdminThrottle.address(try SocketAddress(ipAddress: "203.0.113.7", port: 5555)) == "203.0.113.7")
        let a = AdminThrottle.address(try SocketAddress(ipAddress: "2001:db8:1:2:aaaa::1", port: 1))
        let b = AdminThrottle.address(try SocketAddress(ipAddress: "2001:db8:1:2:ffff:ffff:ffff:ffff", port: 2))
        #expect(a == "2001:db8:1:2::/64" && a == b)
        #expect(AdminThrottle.address(try SocketAddress(ipAddress: "2001:db8:1:3::1", port: 1)) != a)
        #expect(AdminThrottle.address(try SocketAddress(ipAddress: "::ffff:198.51.100.4", port: 1)) == "198.51.100.4")
        #expect(AdminThrottle.address(nil) == "unknown")
    }
}
