import Testing
@testable import TollgateCore

@Suite("Rate limits")
struct RateLimiterTests {
    @Test("RPM 5: five pass, the sixth waits 12 s, and one request is back after 12 s")
    func rpm() {
        let clock = TestClock((2026, 11, 21, 10))
        let limiter = RateLimiter(clock: clock.read)
        for _ in 0..<5 { #expect(limiter.admit(keyID: "k", rpm: 5, tpm: nil, estimatedTokens: 10) == nil) }
        #expect(limiter.admit(keyID: "k", rpm: 5, tpm: nil, estimatedTokens: 10) == 12)
        // Another key has its own bucket.
        #expect(limiter.admit(keyID: "other", rpm: 5, tpm: nil, estimatedTokens: 10) == nil)
        clock.advance(ms: 12_000)
        #expect(limiter.admit(keyID: "k", rpm: 5, tpm: nil, estimatedTokens: 10) == nil)
        #expect(limiter.admit(keyID: "k", rpm: 5, tpm: nil, estimatedTokens: 10) != nil)
    }

    @Test("TPM charges the estimate, then settles to the actual tokens")
    func tpm() {
        let clock = TestClock((2026, 11, 21, 10))
        let limiter = RateLimiter(clock: clock.read)
        #expect(limiter.admit(keyID: "k", rpm: nil, tpm: 1000, estimatedTokens: 100) == nil)
        // The answer used 900 tokens in all: the bucket is empty now.
        limiter.settle(keyID: "k", tpm: 1000, estimatedTokens: 100, actualTokens: 1000)
        let wait = limiter.admit(keyID: "k", rpm: nil, tpm: 1000, estimatedTokens: 100)
        #expect(wait == 6)  // 100 tokens at 1000/min
        clock.advance(ms: 6_000)
        #expect(limiter.admit(keyID: "k", rpm: nil, tpm: 1000, estimatedTokens: 100) == nil)
    }

    @Test("no limits: always admitted")
    func none() {
        let limiter = RateLimiter(clock: { 0 })
        for _ in 0..<100 { #expect(limiter.admit(keyID: "k", rpm: nil, tpm: nil, estimatedTokens: 1) == nil) }
    }
}
