import Testing
@testable import TollgateCore

@Suite("Who is calling")
struct IdentityTests {
    private func token(_ headers: [String: String]) -> ClientToken? {
        ClientToken { headers[$0] }
    }

    @Test("the token is read from Authorization Bearer, x-api-key, x-goog-api-key or Azure's api-key")
    func tokenSources() {
        #expect(token(["authorization": "Bearer sk-a"]) == ClientToken(value: "sk-a", source: .authorization))
        #expect(token(["x-api-key": "sk-ant"]) == ClientToken(value: "sk-ant", source: .xAPIKey))
        #expect(token(["x-goog-api-key": "AIza"]) == ClientToken(value: "AIza", source: .xGoogAPIKey))
        #expect(token(["api-key": "azure-key"]) == ClientToken(value: "azure-key", source: .apiKey))
        #expect(token(["authorization": "Basic abc"]) == nil)
        #expect(token([:]) == nil)
        #expect(token(["authorization": "Bearer tg_abc"])?.isTollgateKey == true)
    }

    @Test("the Bearer scheme in any case; the token trimmed of spaces and tabs, its inside kept")
    func bearerParsing() {
        #expect(token(["authorization": "bearer sk-a"])?.value == "sk-a")
        #expect(token(["authorization": "BEARER \t sk-a \t"])?.value == "sk-a")
        #expect(token(["authorization": "Bearer sk a"])?.value == "sk a")
        #expect(token(["authorization": "Bearer clé-é"])?.value == "clé-é")
        #expect(token(["authorization": "Bearer    "]) == nil)
        #expect(token(["authorization": "Bearer"]) == nil)
        #expect(token(["authorization": "Bearerx sk-a"]) == nil)
        #expect(token(["authorization": "Basic abc", "x-api-key": " sk-ant "]) == ClientToken(value: "sk-ant", source: .xAPIKey))
        #expect("  é \t".trimmingSpaces() == "é")
        #expect("a\u{301}".trimmingSpaces() == "a\u{301}")
        #expect(" \t ".trimmingSpaces() == "")
    }

    @Test("passthrough key id is pt_ plus the first 16 hex digits of the token's SHA-256")
    func passthroughKeyID() {
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad (FIPS 180-2).
        #expect(ClientToken(value: "abc", source: .authorization).passthroughKeyID == "pt_ba7816bf8f01cfea")
    }

    @Test("HMAC-SHA256 matches RFC 4231 test case 2")
    func hmac() {
        let mac = Digest.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(Digest.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(Digest.randomBytes(32).count == 32)
    }

    @Test("attribution headers: org slug, user, session, lower-cased tags, at most ten")
    func attributionHeaders() throws {
        let parsed = try AttributionHeaders(headers: [
            (name: "X-Tollgate-Org", value: "acme"), (name: "X-Tollgate-User", value: " bob "),
            (name: "X-Tollgate-Session", value: "s1"), (name: "X-Tollgate-Tag-Feature", value: "search"),
            (name: "Authorization", value: "Bearer x"),
        ])
        #expect(parsed.org == "acme")
        #expect(parsed.user == "bob")
        #expect(parsed.session == "s1")
        #expect(parsed.tags == ["feature": "search"])
        #expect(throws: RequestError.self) { try AttributionHeaders(headers: [(name: "x-tollgate-org", value: "Acme Corp")]) }
        let many = (0...10).map { (name: "x-tollgate-tag-t\($0)", value: "v") }
        #expect(throws: RequestError.self) { try AttributionHeaders(headers: many) }
    }
}
