import Testing
@testable import TollgateCore

@Suite("Cache keys")
struct CacheKeyTests {
    func key(_ body: String, org: String = "acme", model: String = "gpt-4o-mini") -> String? {
        CacheKey.make(org: org, provider: "openai", endpoint: .chat, model: model, body: Array(body.utf8))
    }

    @Test("key order, whitespace and number spelling do not matter")
    func canonical() {
        let a = key(#"{"model":"gpt-4o-mini","temperature":1,"messages":[{"role":"user","content":"hi"}]}"#)
        let b = key(#"{ "messages" : [ { "content" : "hi", "role" : "user" } ], "temperature" : 1.0, "model":"gpt-4o-mini" }"#)
        let c = key(#"{"messages":[{"content":"hi","role":"user"}],"temperature":1e0,"model":"gpt-4o-mini"}"#)
        #expect(a != nil)
        #expect(a == b)
        #expect(a == c)
        #expect(CacheKey.canonicalBody(Array(#"{"b":[1.50,true,null,"x\n"],"a":{"d":2,"c":1}}"#.utf8)) == #"{"a":{"c":1,"d":2},"b":[1.5,true,null,"x\n"]}"#)
    }

    @Test("stream, stream_options, user and metadata are left out; everything else counts")
    func ignored() {
        let base = key(#"{"model":"m","messages":[]}"#)
        #expect(key(#"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}"#) == base)
        #expect(key(#"{"model":"m","messages":[],"user":"u1","metadata":{"trace":"t"}}"#) == base)
        #expect(key(#"{"model":"m","messages":[],"temperature":0.2}"#) != base)
        #expect(key(#"{"model":"m","messages":[{"stream":true}]}"#) != base)  // only top-level fields are ignored
    }

    @Test("org, model and endpoint separate entries; non-objects have no key")
    func scope() {
        let body = #"{"messages":[]}"#
        #expect(key(body, org: "acme") != key(body, org: "beta"))
        #expect(key(body, model: "a") != key(body, model: "b"))
        #expect(CacheKey.make(org: "acme", provider: "openai", endpoint: .completion, model: "gpt-4o-mini", body: Array(body.utf8)) != key(body))
        #expect(key("[1,2]") == nil)
        #expect(key("not json") == nil)
    }
}

@Suite("LRU map")
struct LRUMapTests {
    @Test("evicts least recently used entries to stay within the byte budget")
    func eviction() {
        var map = LRUMap<Int>(maxCost: 30)
        map.set("a", 1, cost: 10)
        map.set("b", 2, cost: 10)
        map.set("c", 3, cost: 10)
        #expect(map.get("a") == 1)  // a is now the most recent
        let evicted = map.set("d", 4, cost: 10)
        #expect(evicted == ["b"])
        #expect(map.get("b") == nil)
        #expect(map.totalCost == 30)
        #expect(map.count == 3)
        map.set("e", 5, cost: 25)  // evicts c, a, d in LRU order until it fits
        #expect(map.count == 1)
        #expect(map.get("e") == 5)
        map.set("huge", 6, cost: 31)  // larger than the budget: not kept
        #expect(map.get("huge") == nil)
    }

    @Test("replacing a key updates its cost; removeAll filters")
    func replace() {
        var map = LRUMap<String>(maxCost: 100)
        map.set("a", "x", cost: 40)
        map.set("a", "y", cost: 10)
        #expect(map.totalCost == 10)
        #expect(map.get("a") == "y")
        map.set("b", "keep", cost: 10)
        map.removeAll { _, value in value == "y" }
        #expect(map.count == 1)
        #expect(map.get("b") == "keep")
        for i in 0..<1000 { map.set("k\(i)", "v", cost: 1) }
        #expect(map.totalCost <= 100)
    }
}
