import Testing
@testable import TollgateCore

@Suite("Which headers cross the proxy")
struct HeaderPolicyTests {
    @Test("hop-by-hop, framing and X-Tollgate-* request headers are not forwarded")
    func requestHeaders() {
        let tokens = HeaderPolicy.connectionTokens("keep-alive, X-Custom-Hop")
        for name in ["connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host", "content-length",
            "expect", "proxy-authorization", "x-tollgate-user", "x-tollgate-tag-feature", "x-custom-hop"]
        {
            #expect(!HeaderPolicy.forwardsRequestHeader(name, connectionTokens: tokens), "\(name)")
        }
        for name in ["authorization", "x-api-key", "content-type", "anthropic-version", "openai-beta", "user-agent"] {
            #expect(HeaderPolicy.forwardsRequestHeader(name, connectionTokens: tokens), "\(name)")
        }
    }

    @Test("response framing is recomputed; content-encoding goes only when the body was decoded")
    func responseHeaders() {
        #expect(!HeaderPolicy.forwardsResponseHeader("transfer-encoding", decodedBody: false))
        #expect(!HeaderPolicy.forwardsResponseHeader("content-length", decodedBody: false))
        #expect(HeaderPolicy.forwardsResponseHeader("content-encoding", decodedBody: false))
        #expect(!HeaderPolicy.forwardsResponseHeader("content-encoding", decodedBody: true))
        #expect(HeaderPolicy.forwardsResponseHeader("x-request-id", decodedBody: true))
    }
}
