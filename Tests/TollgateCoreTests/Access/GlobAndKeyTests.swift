import Testing
@testable import TollgateCore

@Suite("Model allow-lists and key secrets")
struct GlobAndKeyTests {
    @Test("globs: * any run, ? one character, the rest literal")
    func globs() {
        #expect(Glob.matches("gpt-4o*", "gpt-4o"))
        #expect(Glob.matches("gpt-4o*", "gpt-4o-mini"))
        #expect(!Glob.matches("gpt-4o*", "gpt-4.1"))
        #expect(Glob.matches("claude-*-4-5", "claude-sonnet-4-5"))
        #expect(!Glob.matches("claude-*-4-5", "claude-sonnet-4-5-20250929"))
        #expect(Glob.matches("gpt-?o", "gpt-4o"))
        #expect(Glob.matches("*", ""))
        #expect(!Glob.matches("gpt", "gpt-4o"))
        #expect(Glob.allows([], "anything"))
        #expect(!Glob.allows(["a*", "b*"], "c"))
    }

    @Test("secrets are tg_ + 32 base62 characters, distinct, stored as SHA-256 hex with an 11-character prefix")
    func secrets() {
        let a = KeySecret.generate()
        let b = KeySecret.generate()
        #expect(a != b)
        #expect(a.hasPrefix("tg_") && a.count == 35)
        #expect(a.dropFirst(3).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(KeySecret.hash(a).count == 64)
        #expect(KeySecret.hash(a) == KeySecret.hash(a))
        #expect(KeySecret.prefix(a) == String(a.prefix(11)))
        #expect(KeySecret.id("key").hasPrefix("key_"))
    }

    @Test("revoked and expired keys are refused, live ones are not")
    func refusal() {
        var key = TollgateKey(id: "key_1", hash: "h", prefix: "tg_x", org: "acme", createdAtMs: 0)
        #expect(key.refusal(atMs: 10) == nil)
        key.expiresAtMs = 10
        #expect(key.refusal(atMs: 9) == nil)
        #expect(key.refusal(atMs: 10)?.contains("expired") == true)
        key.revokedAtMs = 5
        #expect(key.refusal(atMs: 0)?.contains("revoked") == true)
    }
}
