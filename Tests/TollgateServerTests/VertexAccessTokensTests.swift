import Foundation
import Logging
import NIOCore
import Synchronization
import Testing
import TollgateCore
@testable import TollgateServer
@testable import TollgateUpstream

@Suite("Vertex AI access tokens: RS256 assertion, cached, one refresh at a time, failures held")
struct VertexAccessTokensTests {
    /// A 2048-bit RSA key made for this test only (`openssl genpkey -algorithm RSA`).
    static let pem = """
        -----BEGIN PRIVATE KEY-----
        MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQCafqPGBYxqtFkk
        VzzazJ5NzT1JC70vNc7t1G9mWNL1sp5BqDya1CCHQ9+zFO5qrQiwh3rqk5PLaZTY
        FR1FIjb3PUQ09wCmPh1XC0eF53jfbVYKXRa+LrrBa9vVcGq0A7U1NLTkuToGE/Hi
        3L02w2SP2s6A4lVC7IvFhF44d3y85MWEuolkxf0fDK4K6+3iLWwjZaStXNDsvnCB
        DVcxLQlkTByMbudOE+ABApKLGKLQUjbcYev7Nj1Y6xVSVRfpyI/QskgmgVorkbR3
        KFdVvxxyILAL+0nksJYvmY+NSoemVulQ1lzy/FtWsEiIwOruE+Bj9eWKw+8I00Rz
        jn850FthAgMBAAECggEABFxyzxI1BoYUxhvYUezYwyV6B2fXbU+9iaUnh+IWAm2K
        Xhwbqds3F9popCuBF23PAvywEZMc5u8SDo96BguTNaN7G2uljwvN1DkzSaphFR2H
        Aj/idnfnObKLwBiuSmqYYOod+R7pbmZ9u4Ozq6oUWqM4lRbOhVccEvVLm5hz4vkf
        B1I7VBQAhbgVk5jarKx4EBejBPew6DRBEWS6gP99LA8UyAAvQ+J9vOz9wsNLfYFW
        3/COLKyq7jqfQzwQrJlya6tRl3r1ELu+UMcryAP3c4NAx7r5wheyK6mMJss/Mlr3
        UjZpacibNjDaLMNHb5Nd1yQj6N2glftA/q+o2Cl34QKBgQDK9cxGExwG8C5UmKml
        o6Ea3vcXkftVa2aoHk6+33+0vH0JevDYprVsvRVtijwCxt+z86cU3RW+qakhvmwT
        bUeaQMGeSD3DgPBBEMgPxbBafdT2ktIlBddW6/zF2S89TmUwcnxX39Lwz9T7u8G5
        RdaVV6AeFUE+uz8RWgVies6A7QKBgQDC3nZWX1FQ/3WOWdg/LTsgNCUOi6VOIbN9
        bvMxZ0Pc4eSLlaYDBTkj6rWyvKIxxukv+1n1quEsFkXle6YOFLQEoSKVADqoJR86
        3o9AM+66RvLYVX4t2wyv/i9+p7xdN9Fi6S6e7LCcyUT4cXdHZxcueNOO3IcxU2m4
        gTqUDZAZxQKBgQCIC79D8adF11WXC0Yca9SgCHkk6YvJtFZ5tucd9v7JjddatXgg
        IY9XNl/Yr2KOkfR90YNb7t6WkW932Qbk9smaUnH2wYH1PMbPNoqEWAVggxxvs/b9
        Li8sar9jd7O8qoIVuYgz9yqUlRu1KiQvJusx7Cy+PY0gma8q2Gbnnl4x+QKBgQCv
        y2TSEncXLP3uB1sv0ywNpzzu3EeqLnjv5VF69f+gmiBFVCFJhELCBhEYR1fCtADV
        iljjaN5tmUJA/cUV2tNzgbHi3SwNWD/OKcztTGxGm46kXqvPzlapxhMunT8ukRZR
        tq6aLEg/iMqxnhrOzU96WwHvVT6Y3vj2u44O1hVzSQKBgQCnyIjRnpmrcQL9iBcE
        J34pG6DzHovv5ESFyxANZPUSs4eWFis1kdR/3h7UwqJsgEvVxY9OvMh7E67Iu3q2
        I3r+qRYAOoQyhTE8i2C/Y1FK+D+yxuLxBjmC151VAccx+XCqjBv4aeGWs399WixB
        /O2DF8hVXr7rKKgcX1VAtDYmWQ==
        -----END PRIVATE KEY-----
        """

    static func credentials(tokenURI: String = "https://oauth2.example/token") -> String {
        #"{"type":"service_account","client_email":"tg@p.iam.gserviceaccount.com","private_key_id":"k1","private_key":\#(JSONText.quoted(pem)),"token_uri":\#(JSONText.quoted(tokenURI))}"#
    }

    /// Answers token requests like Google's endpoint would, counting them; `status` and `delay` set per test.
    final class TokenEndpoint: UpstreamClient, Sendable {
        let state = Mutex<(calls: Int, status: Int, lastBody: String)>((0, 200, ""))
        let delay: Duration
        init(delay: Duration = .zero) { self.delay = delay }
        var activeTransfers: Int { 0 }
        func buffered(_ request: UpstreamRequest) async throws -> BufferedResponse {
            let (calls, status) = state.withLock { state in
                state.calls += 1
                state.lastBody = request.body.map { String(buffer: $0) } ?? ""
                return (state.calls, state.status)
            }
            try await Task.sleep(for: delay)
            let body = status == 200 ? #"{"access_token":"ya29.t\#(calls)","expires_in":3599,"token_type":"Bearer"}"# : #"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#
            return BufferedResponse(head: UpstreamHead(status: status, headers: []), body: ByteBuffer(string: body), timing: UpstreamTiming(totalNanos: 0))
        }
        func streaming(_ request: UpstreamRequest) async throws -> StreamingResponse { fatalError("not used") }
    }

    final class Clock: Sendable {
        let now = Mutex<Int64>(1_800_000_000_000)
        func advance(_ ms: Int64) { now.withLock { $0 += ms } }
        var read: @Sendable () -> Int64 { { self.now.withLock { $0 } } }
    }

    private func tokens(_ endpoint: TokenEndpoint, _ clock: Clock) throws -> VertexAccessTokens {
        try VertexAccessTokens(
            credentials: Self.credentials(), upstream: endpoint, timeouts: UpstreamTimeouts(), clock: clock.read, logger: Logger(label: "test"))
    }

    @Test("the assertion is an RS256 JWT for the account, its token URI and the cloud-platform scope")
    func assertion() throws {
        let source = try tokens(TokenEndpoint(), Clock())
        let parts = source.assertion(nowSeconds: 1_800_000_000).split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        func json(_ part: String) throws -> [String: Any] {
            var text = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            text += String(repeating: "=", count: (4 - text.count % 4) % 4)
            let data = try #require(Data(base64Encoded: text))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        let header = try json(parts[0])
        #expect(header["alg"] as? String == "RS256" && header["kid"] as? String == "k1")
        let claims = try json(parts[1])
        #expect(claims["iss"] as? String == "tg@p.iam.gserviceaccount.com" && claims["aud"] as? String == "https://oauth2.example/token")
        #expect(claims["scope"] as? String == "https://www.googleapis.com/auth/cloud-platform")
        #expect(claims["iat"] as? Int == 1_800_000_000 && claims["exp"] as? Int == 1_800_003_600)
        #expect(parts[2].count == 342, "a 2048-bit signature: 256 bytes in unpadded base64url")
        #expect(!parts.joined().contains("=") && !parts.joined().contains("+") && !parts.joined().contains("/"))
    }

    @Test("one token until 5 minutes before it expires; concurrent first callers share one exchange")
    func caching() async throws {
        let endpoint = TokenEndpoint(delay: .milliseconds(50))
        let clock = Clock()
        let source = try tokens(endpoint, clock)
        let first = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await source.token() } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(first == ["ya29.t1"] && endpoint.state.withLock { $0.calls } == 1)
        #expect(endpoint.state.withLock { $0.lastBody }.hasPrefix("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=ey"))
        clock.advance(3_599_000 - 300_001)
        #expect(try await source.token() == "ya29.t1")
        clock.advance(2)
        #expect(try await source.token() == "ya29.t2")
        #expect(endpoint.state.withLock { $0.calls } == 2)
    }

    @Test("a refused exchange is a 502 naming the setting, held for 5 s before the next try")
    func failures() async throws {
        let endpoint = TokenEndpoint()
        endpoint.state.withLock { $0.status = 400 }
        let clock = Clock()
        let source = try tokens(endpoint, clock)
        for _ in 0..<3 {
            await #expect(throws: RequestError.self) { try await source.token() }
        }
        #expect(endpoint.state.withLock { $0.calls } == 1)
        do {
            _ = try await source.token()
        } catch {
            #expect(error.status == 502 && error.message.contains("Invalid JWT Signature") && error.message.contains("TOLLGATE_VERTEX_CREDENTIALS"))
        }
        endpoint.state.withLock { $0.status = 200 }
        clock.advance(5_001)
        #expect(try await source.token() == "ya29.t2")
    }

    @Test("credentials that are no service-account key are refused at start, saying why")
    func badCredentials() {
        for json in ["{}", #"{"type":"authorized_user","client_email":"a","private_key":"b"}"#, #"{"client_email":"a","private_key":"not a key"}"#, "nope"] {
            #expect(throws: ConfigError.self, "\(json)") {
                try VertexAccessTokens(credentials: json, upstream: TokenEndpoint(), timeouts: UpstreamTimeouts(), clock: { 0 }, logger: Logger(label: "t"))
            }
        }
    }
}
