import Foundation
import Testing
@testable import TollgateCore

@Suite("Request body reader: strict JSON in one pass, the facts metering needs")
struct RequestBodyReaderTests {
    private func read(_ text: String) -> Result<(facts: RequestBodyFacts, isObject: Bool), RequestBodyReader.Failure> {
        Array(text.utf8).withUnsafeBufferPointer { p in Result { () throws(RequestBodyReader.Failure) in try RequestBodyReader.read(p) } }
    }

    /// The input estimate's rules applied to a fully parsed value: the reference the reader must match.
    private func referenceTextBytes(_ value: Any, inList: Bool = false) -> Int {
        switch value {
        case let string as String: return string.utf8.count
        case let object as [String: Any]:
            return object.filter { !InputEstimate.skippedKeys.contains($0.key) }.values.reduce(0) { $0 + referenceTextBytes($1) }
        case let list as [Any]: return list.reduce(0) { $0 + referenceTextBytes($1, inList: true) }
        case let number as NSNumber: return inList && !isBoolean(number) ? 4 : 0
        default: return 0
        }
    }

    /// Foundation on Linux answers `true`/`false` as a boolean NSNumber subclass, and `1 as? Bool` succeeds.
    private func isBoolean(_ value: Any?) -> Bool {
        value.map { String(describing: type(of: $0)).contains("Boolean") } ?? false
    }

    @Test("top-level facts; nested look-alikes are not taken; escapes decoded")
    func facts() throws {
        let body = #"""
            {"model":"gpt-4o\u002dmini","user":"al\"ice","stream":true,"max_tokens":0,"max_output_tokens":77,
             "stream_options":{"include_usage":true},"generationConfig":{"maxOutputTokens":5},
             "messages":[{"role":"user","content":"h\u00e9llo \ud83d\ude00","model":"nested","stream":false}]}
            """#
        let (facts, isObject) = try read(body).get()
        #expect(isObject)
        #expect(facts.model == "gpt-4o-mini" && facts.user == "al\"ice" && facts.stream)
        #expect(facts.maxTokens == nil && facts.maxOutputTokensField == 77 && facts.maxOutputTokens == 77)
        #expect(facts.generationMaxOutputTokens == 5 && facts.includesUsage)
        // "héllo 😀": h(1) é(2) "llo "(4) 😀(4) = 11 bytes; every "model", "role" and "user" is skipped.
        #expect(facts.textBytes == 11)
        #expect(try read(#"{"stream":1,"max_tokens":2.0}"#).get().facts.stream == false)
        #expect(try read(#"{"stream":1,"max_tokens":2.0}"#).get().facts.maxTokens == 2)
    }

    @Test("refuses what a strict parser refuses, saying where", arguments: [
        ("{bad", "unexpected 'b'"), (#"{"a":1,}"#, "unexpected '}'"), ("[1,]", "unexpected ']'"), (#"{"a" 1}"#, "expected ':'"), ("[1 2]", "expected ',' or ']'"),
        (#"{"a":01}"#, "expected ',' or '}'"), (#"{"a":1.}"#, "invalid number"), (#"{"a":-}"#, "invalid number"),
        (#"{"a":tru}"#, "unexpected 't'"), (#"{"a":"x\q"}"#, "invalid escape"), (#"{"a":"\u12"}"#, "four hex digits"), (#"{"a":"\ud83dx"}"#, "low surrogate next"), (#"{"a":"\ude00"}"#, "no high surrogate"),
        ("{\"a\":\"x\ty\"}", "control character"), (#"{"a":"open"#, "not closed"), (#"{"a":1} x"#, "after the end"),
        (#"{"a":[1,2"#, "ends inside a list"), ("{\"a\"", "ends after an object key"), (#"{"a":"#, "ends where a value should start"),
        (String(repeating: "[", count: 600) + String(repeating: "]", count: 600), "deeper than 512"),
    ])
    func refuses(text: String, message: String) {
        guard case .failure(let failure) = read(text) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(failure.message.contains(message), "\(failure.message)")
    }

    @Test("agrees with JSONSerialization on generated bodies: validity, fields and the input estimate")
    func agreesWithFoundation() throws {
        var rng = SystemRandomNumberGenerator()
        let words = ["hi", "é", "a \\\"q\\\"", "\\n", "x\\u00e9", "😀", "\\ud83d\\ude00", ""]
        let keys = ["content", "text", "role", "type", "model", "url", "data", "input", "stream", "max_tokens", "user", "n"]
        func value(_ depth: Int) -> String {
            switch Int.random(in: 0..<(depth > 3 ? 4 : 7), using: &rng) {
            case 0: return "\"\(words.randomElement(using: &rng)!)\""
            case 1: return ["0", "-1", "12", "3.5", "1e3", "-0.25E-2", "123456"].randomElement(using: &rng)!
            case 2: return ["true", "false", "null"].randomElement(using: &rng)!
            case 3: return "\"\(words.randomElement(using: &rng)!)\(words.randomElement(using: &rng)!)\""
            case 4, 5:
                // Distinct keys: a parsed dictionary keeps one of duplicates, the reader counts each.
                let members = keys.shuffled(using: &rng).prefix(Int.random(in: 0...4, using: &rng)).map { key in
                    "\"\(key)\" : \(value(depth + 1))"
                }
                return "{" + members.joined(separator: ", ") + "}"
            default:
                return "[" + (0..<Int.random(in: 0...4, using: &rng)).map { _ in value(depth + 1) }.joined(separator: ",") + "]"
            }
        }
        for round in 0..<800 {
            var text = value(0)
            if round % 2 == 1, !text.isEmpty {
                // Damage it: drop, double or swap one byte.
                var bytes = Array(text.utf8)
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(bytes[at], at: at)
                default: bytes[at] = Array("{}[],:\"\\ 1a".utf8).randomElement(using: &rng)!
                }
                text = String(decoding: bytes, as: UTF8.self)
            }
            let reference = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)
            switch read(text) {
            case .failure(let failure):
                // Foundation also takes a trailing comma (`[1,]`), which JSON does not allow; the reader refuses it.
                let trailingComma = text.range(of: #",\s*[\]}]"#, options: .regularExpression) != nil
                #expect(reference == nil || trailingComma, "refused valid JSON (\(failure.message)): \(text)")
            case .success(let (facts, isObject)):
                let parsed = try #require(reference, "accepted invalid JSON: \(text)")
                #expect(isObject == (parsed is [String: Any]), "\(text)")
                #expect(facts.textBytes == referenceTextBytes(parsed), "\(text)")
                if let object = parsed as? [String: Any] {
                    #expect(facts.model == object["model"] as? String, "\(text)")
                    #expect(facts.user == object["user"] as? String, "\(text)")
                    #expect(facts.stream == (isBoolean(object["stream"]) && object["stream"] as? Bool == true), "\(text)")
                }
            }
        }
    }
}
