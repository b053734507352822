import Testing
@testable import TollgateCore

@Suite("Routing a client path to a provider")
struct ProviderRouterTests {
    let router = ProviderRouter(
        providers: Provider.builtIn + [Provider(name: "gw", baseURL: "https://gw.example.com/openai/", format: .openai)])

    @Test("the first segment names the provider and the rest is appended to its base URL")
    func providerPrefix() throws {
        let route = try #require(router.route("/anthropic/v1/messages"))
        #expect(route.provider.name == "anthropic")
        #expect(route.path == "/v1/messages")
        #expect(route.endpoint == .messages)
        #expect(route.upstreamURL == "https://api.anthropic.com/v1/messages")
    }

    @Test("plain /v1 means OpenAI")
    func bareV1() throws {
        let route = try #require(router.route("/v1/chat/completions"))
        #expect(route.provider.name == "openai")
        #expect(route.upstreamURL == "https://api.openai.com/v1/chat/completions")
        #expect(route.endpoint == .chat)
    }

    @Test("a base URL's path prefix is kept and the query is carried over")
    func prefixAndQuery() throws {
        let route = try #require(router.route("/gw/v1/embeddings?x=1"))
        #expect(route.upstreamURL == "https://gw.example.com/openai/v1/embeddings?x=1")
        #expect(route.endpoint == .embedding)
    }

    @Test("Gemini generate and stream paths are metered, with alt=sse kept")
    func gemini() throws {
        let route = try #require(router.route("/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"))
        #expect(route.endpoint == .generate)
        #expect(route.upstreamURL.hasSuffix(":streamGenerateContent?alt=sse"))
    }

    @Test("unknown providers and unmetered paths")
    func unknownAndOther() throws {
        #expect(router.route("/nope/v1/chat/completions") == nil)
        #expect(router.route("") == nil)
        #expect(try #require(router.route("/openai/v1/models")).endpoint == .other)
        #expect(try #require(router.route("/openai/v1/completions")).endpoint == .completion)
        #expect(try #require(router.route("/openai/v1/responses")).endpoint == .responses)
    }
}
