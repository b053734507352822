import Testing
@testable import TollgateCore

@Suite("Request targets: one normalized path for routing, policy and the provider")
struct RequestTargetTests {
    @Test("canonical targets pass through untouched, dots inside segments included", arguments: [
        "/v1/chat/completions", "/openai/v1/chat/completions?x=1&y=/../z", "/gemini/v1beta/models/gemini-2.5-flash:generateContent",
        "/", "/anthropic/v1/messages", "/v1/models/ft:gpt-4o:acme:x.y",
    ])
    func canonical(_ target: String) throws {
        #expect(try RequestTarget.normalize(target) == target)
    }

    @Test("duplicate and trailing slashes collapse", arguments: [
        ("/v1/chat/completions/", "/v1/chat/completions"),
        ("//openai//v1///chat/completions", "/openai/v1/chat/completions"),
        ("/v1/chat/completions/?a=1", "/v1/chat/completions?a=1"),
        ("///", "/"),
    ])
    func collapses(_ pair: (String, String)) throws {
        #expect(try RequestTarget.normalize(pair.0) == pair.1)
    }

    @Test("dot segments, encoded separators and fragments are refused", arguments: [
        "/pfx/../tenant-b/v1/chat/completions", "/openai/v1/./chat/completions", "/openai/v1/chat/completions/..",
        "/openai/v1/%2e%2e/files", "/openai/v1%2Fchat%2Fcompletions", "/openai/v1/chat/completions%00",
        "/openai/v1/chat\\completions", "/openai/v1/chat/completions#/../files", "/openai/v1/chat/com pletions",
        "/openai/v1/%zz", "/openai/v1/%2", "v1/chat/completions", "/openai/v1/%5cfiles",
    ])
    func refused(_ target: String) {
        #expect(throws: RequestError.self) { try RequestTarget.normalize(target) }
    }

    @Test("a trailing slash still routes to the metered endpoint")
    func trailingSlashIsMetered() throws {
        let router = ProviderRouter(providers: Provider.builtIn)
        let route = try #require(router.route(try RequestTarget.normalize("/v1/chat/completions/")))
        #expect(route.endpoint == .chat)
        #expect(route.upstreamURL == "https://api.openai.com/v1/chat/completions")
    }
}

@Suite("Key path policy: Tollgate keys reach metered and free endpoints only")
struct KeyPathPolicyTests {
    let policy = KeyPathPolicy(unmeteredPaths: ["*": ["/v1/moderations/extra"], "key_img": ["/v1/images/*"]])

    private func verdict(_ key: String, _ format: ProviderFormat, _ path: String) -> KeyPathPolicy.Verdict {
        policy.verdict(keyID: key, format: format, endpoint: format.wire.endpoint(forPath: Substring(path)), path: Substring(path))
    }

    @Test("metered and free endpoints are allowed")
    func allowed() {
        #expect(verdict("k", .openai, "/v1/chat/completions") == .allowed)
        #expect(verdict("k", .openai, "/v1/models") == .allowed)
        #expect(verdict("k", .openai, "/v1/models/gpt-4o") == .allowed)
        #expect(verdict("k", .anthropic, "/v1/messages/count_tokens") == .allowed)
        #expect(verdict("k", .gemini, "/v1beta/models/gemini-2.5-flash:countTokens") == .allowed)
        #expect(verdict("k", .gemini, "/v1beta/models") == .allowed)
    }

    @Test("billable endpoints Tollgate cannot meter are refused", arguments: [
        "/v1/batches", "/v1/files", "/v1/images/generations", "/v1/fine_tuning/jobs", "/v1/audio/speech",
        "/v1/models/gpt-4o/extra", "/v1/vector_stores", "/v1/chat/completion",
    ])
    func refused(_ path: String) {
        #expect(verdict("k", .openai, path) == .refused)
    }

    @Test("Gemini methods other than counting tokens are refused")
    func geminiMethods() {
        #expect(verdict("k", .gemini, "/v1beta/models/gemini-2.5-flash:embedContent") == .refused)
        #expect(verdict("k", .gemini, "/v1beta/models/gemini-2.5-flash:batchEmbedContents") == .refused)
        #expect(verdict("k", .gemini, "/v1beta/cachedContents") == .refused)
    }

    @Test("configuration allows unmetered paths per key, or for every key with *")
    func configured() {
        #expect(verdict("key_img", .openai, "/v1/images/generations") == .allowedUnmetered)
        #expect(verdict("key_other", .openai, "/v1/images/generations") == .refused)
        #expect(verdict("key_other", .openai, "/v1/moderations/extra") == .allowedUnmetered)
    }
}

@Suite("Attribution headers are bounded")
struct BoundedAttributionTests {
    @Test("values over the cap and bad tag names are refused with a message naming the header")
    func caps() throws {
        let long = String(repeating: "a", count: 257)
        for header in ["X-Tollgate-User", "X-Tollgate-Session", "X-Tollgate-Tag-Feature"] {
            #expect(throws: RequestError.self) { try AttributionHeaders(headers: [(header, long)]) }
        }
        #expect(throws: RequestError.self) { try AttributionHeaders(headers: [("X-Tollgate-Org", String(repeating: "o", count: 300))]) }
        #expect(throws: RequestError.self) { try AttributionHeaders(headers: [("X-Tollgate-Tag-a'b", "x")]) }
        #expect(throws: RequestError.self) { try AttributionHeaders(headers: [("X-Tollgate-Tag-" + long, "x")]) }
        let ok = try AttributionHeaders(headers: [("X-Tollgate-User", String(repeating: "u", count: 256)), ("X-Tollgate-Tag-Prompt_Type", "x")])
        #expect(ok.user?.count == 256)
        #expect(ok.tags == ["prompt_type": "x"])
        #expect(throws: RequestError.self) { try AttributionHeaders(headers: [("X-Tollgate-User", "abcd")], maxLength: 3) }
    }
}
