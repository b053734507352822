import Testing
@testable import TollgateCore

@Suite("Routing a client path to a provider")
struct ProviderRouterTests {
    let router = ProviderRouter(
        providers: Provider.builtIn + [
            Provider(name: "gw", baseURL: "https://gw.example.com/openai/", format: .openai),
            Provider(name: "azure", baseURL: "https://res.openai.azure.com", format: .azure),
        ])

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

    @Test("Azure: deployment and v1 routes metered as OpenAI's, the deployment read as the model, models free")
    func azure() throws {
        let deployment = try #require(router.route("/azure/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21"))
        #expect(deployment.endpoint == .chat)
        #expect(deployment.upstreamURL == "https://res.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21")
        #expect(RequestInspector.azureDeployment(path: deployment.path) == "gpt4o-prod")
        let v1 = try #require(router.route("/azure/openai/v1/embeddings"))
        #expect(v1.endpoint == .embedding)
        #expect(RequestInspector.azureDeployment(path: v1.path) == nil)
        #expect(RequestInspector.azureDeployment(path: "/openai/deployments//chat/completions") == nil)
        #expect(try #require(router.route("/azure/openai/deployments/d/responses")).endpoint == .responses)
        for free in ["/openai/models", "/openai/v1/models", "/openai/models/gpt-4o"] {
            #expect(KeyPathPolicy.isFree(format: .azure, path: Substring(free)), "\(free)")
        }
        for billable in ["/openai/deployments/d/images/generations", "/openai/v1/files", "/v1/models", "/openai"] {
            #expect(!KeyPathPolicy.isFree(format: .azure, path: Substring(billable)), "\(billable)")
        }
        let wire = ProviderFormat.azure.wire
        #expect(wire.credentialHeader(apiKey: "k").name == "api-key" && wire.credentialHeader(apiKey: "k").value == "k")
        #expect(deployment.format == .openai && v1.format == .openai)
    }

    @Test("Vertex: Gemini and Anthropic publisher paths, the region's host from the path, never another host")
    func vertex() throws {
        let gemini = try #require(router.route("/vertex/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse"))
        #expect(gemini.endpoint == .generate && gemini.format == .gemini)
        #expect(gemini.upstreamURL == "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse")
        let claude = try #require(router.route("/vertex/v1/projects/p/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"))
        #expect(claude.endpoint == .messages && claude.format == .anthropic)
        #expect(claude.upstreamURL.hasPrefix("https://aiplatform.googleapis.com/v1/projects/p/locations/global/"))
        #expect(ProviderFormat.vertex.wire.model(inPath: claude.path) == "claude-sonnet-4-5@20250929")
        #expect(try #require(router.route("/vertex/v1beta1/projects/p/locations/europe-west4/publishers/anthropic/models/m:streamRawPredict")).format == .anthropic)
        // A location that is not a plain name could point the request at another host.
        for bad in ["evil.example.com%23", "x@y", "", "EU"] {
            #expect(router.route("/vertex/v1/projects/p/locations/\(bad)/publishers/google/models/m:generateContent") == nil, "\(bad)")
        }
        #expect(router.route("/vertex/v1/projects/p/publishers/google/models/m:generateContent") == nil)
        #expect(KeyPathPolicy.isFree(format: .vertex, path: "/v1/projects/p/locations/l/publishers/google/models/m:countTokens"))
        #expect(!KeyPathPolicy.isFree(format: .vertex, path: "/v1/projects/p/locations/l/publishers/google/models/m:predict"))
        #expect(ProviderFormat.vertex.wire.credentialHeader(apiKey: "ya29.t").value == "Bearer ya29.t")
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
