/// What `RequestBodyReader` collects from a request body in its one pass.
struct RequestBodyFacts: Sendable, Equatable {
    /// The top-level `model` and `user` strings.
    var model: String?
    var user: String?
    /// Top-level `"stream": true`.
    var stream = false
    /// The first positive integer of `max_completion_tokens`, `max_tokens`, `max_output_tokens`,
    /// `generationConfig.maxOutputTokens` (or Converse's `inferenceConfig.maxTokens`), in that
    /// order of preference.
    var maxOutputTokens: Int? {
        maxCompletionTokens ?? maxTokens ?? maxOutputTokensField ?? generationMaxOutputTokens
    }
    var maxCompletionTokens: Int?
    var maxTokens: Int?
    var maxOutputTokensField: Int?
    var generationMaxOutputTokens: Int?
    /// `stream_options.include_usage` is `true`.
    var includesUsage = false
    /// UTF-8 bytes of the text the model reads (`InputEstimate`'s rules).
    var textBytes = 0
}

/// A strict JSON reader (RFC 8259) for metered request bodies that validates the whole text and
/// gathers `RequestBodyFacts` in a single pass, building no values.
///
/// Written by hand because Foundation's `JSONSerialization` builds a dictionary of boxed values
/// only to read a handful of members from it: on every metered request that cost several times
/// this reader's time. What it accepts and refuses matches a strict parser; a refusal names what
/// is wrong and the byte where it was found.
struct RequestBodyReader {
    struct Failure: Error, Equatable {
        var message: String
    }

    /// Deepest nesting accepted (objects and arrays), as a guard against stack exhaustion.
    static let maxDepth = 512

    private let p: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var facts = RequestBodyFacts()

    private init(_ p: UnsafeBufferPointer<UInt8>) { self.p = p }

    /// Reads `p`: the facts, and whether its top-level value is an object.
    static func read(_ p: UnsafeBufferPointer<UInt8>) throws(Failure) -> (facts: RequestBodyFacts, isObject: Bool) {
        var reader = RequestBodyReader(p)
        reader.skipSpace()
        let isObject = reader.i < p.count && p[reader.i] == UInt8(ascii: "{")
        try reader.value(depth: 0, counts: true, inList: false, role: isObject ? .root : .none)
        reader.skipSpace()
        if reader.i < p.count { throw reader.unexpected("after the end of the JSON value") }
        return (reader.facts, isObject)
    }

    /// What a value's position means to the facts.
    private enum Role {
        case none, root, model, user, stream, maxCompletionTokens, maxTokens, maxOutputTokens, generationConfig, inferenceConfig
        case generationMaxOutputTokens, streamOptions, includeUsage
    }

    // MARK: Values

    private mutating func value(depth: Int, counts: Bool, inList: Bool, role: Role) throws(Failure) {
        guard i < p.count else { throw Failure(message: "the body ends where a value should start (byte \(i))") }
        switch p[i] {
        case UInt8(ascii: "{"):
            try object(depth: depth + 1, counts: counts, role: role)
        case UInt8(ascii: "["):
            try list(depth: depth + 1, counts: counts)
        case UInt8(ascii: "\""):
            let start = i + 1
            let (end, decodedBytes, escaped) = try string()
            if counts { facts.textBytes += decodedBytes }
            switch role {
            case .model: facts.model = text(start..<end, escaped: escaped)
            case .user: facts.user = text(start..<end, escaped: escaped)
            default: break
            }
        case UInt8(ascii: "t"):
            try literal("true")
            if role == .stream { facts.stream = true }
            if role == .includeUsage { facts.includesUsage = true }
        case UInt8(ascii: "f"):
            try literal("false")
            if role == .stream { facts.stream = false }
            if role == .includeUsage { facts.includesUsage = false }
        case UInt8(ascii: "n"):
            try literal("null")
            if role == .includeUsage { facts.includesUsage = false }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = i
            try number()
            if counts && inList { facts.textBytes += 4 }
            switch role {
            case .maxCompletionTokens: facts.maxCompletionTokens = positiveInteger(start..<i)
            case .maxTokens: facts.maxTokens = positiveInteger(start..<i)
            case .maxOutputTokens: facts.maxOutputTokensField = positiveInteger(start..<i)
            case .generationMaxOutputTokens: facts.generationMaxOutputTokens = positiveInteger(start..<i)
            default: break
            }
        default:
            throw unexpected("where a value should start")
        }
    }

    private mutating func object(depth: Int, counts: Bool, role: Role) throws(Failure) {
        guard depth <= Self.maxDepth else { throw Failure(message: "objects and lists nest deeper than \(Self.maxDepth) levels") }
        i += 1
        skipSpace()
        if i < p.count && p[i] == UInt8(ascii: "}") {
            i += 1
            return
        }
        while true {
            guard i < p.count else { throw Failure(message: "the body ends inside an object (byte \(i))") }
            guard p[i] == UInt8(ascii: "\"") else { throw unexpected("where an object key should start") }
            let keyStart = i + 1
            let (keyEnd, _, _) = try string()
            let key = UnsafeBufferPointer(rebasing: p[keyStart..<keyEnd])
            skipSpace()
            guard i < p.count, p[i] == UInt8(ascii: ":") else {
                throw i < p.count ? unexpected("after an object key; expected ':'") : Failure(message: "the body ends after an object key (byte \(i))")
            }
            i += 1
            skipSpace()
            try value(
                depth: depth, counts: counts && !InputEstimate.isSkipped(key), inList: false, role: Self.role(of: key, in: role))
            skipSpace()
            guard i < p.count else { throw Failure(message: "the body ends inside an object (byte \(i))") }
            switch p[i] {
            case UInt8(ascii: ","):
                i += 1
                skipSpace()
            case UInt8(ascii: "}"):
                i += 1
                return
            default:
                throw unexpected("in an object; expected ',' or '}'")
            }
        }
    }

    private mutating func list(depth: Int, counts: Bool) throws(Failure) {
        guard depth <= Self.maxDepth else { throw Failure(message: "objects and lists nest deeper than \(Self.maxDepth) levels") }
        i += 1
        skipSpace()
        if i < p.count && p[i] == UInt8(ascii: "]") {
            i += 1
            return
        }
        while true {
            try value(depth: depth, counts: counts, inList: true, role: .none)
            skipSpace()
            guard i < p.count else { throw Failure(message: "the body ends inside a list (byte \(i))") }
            switch p[i] {
            case UInt8(ascii: ","):
                i += 1
                skipSpace()
            case UInt8(ascii: "]"):
                i += 1
                return
            default:
                throw unexpected("in a list; expected ',' or ']'")
            }
        }
    }

    /// The role of `key`'s value inside an object whose own role is `parent`.
    private static func role(of key: UnsafeBufferPointer<UInt8>, in parent: Role) -> Role {
        func `is`(_ name: StaticString) -> Bool {
            name.utf8CodeUnitCount == key.count
                && UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount).elementsEqual(key)
        }
        switch parent {
        case .root:
            if `is`("model") { return .model }
            if `is`("stream") { return .stream }
            if `is`("user") { return .user }
            if `is`("max_completion_tokens") { return .maxCompletionTokens }
            if `is`("max_tokens") { return .maxTokens }
            if `is`("max_output_tokens") { return .maxOutputTokens }
            if `is`("generationConfig") { return .generationConfig }
            if `is`("inferenceConfig") { return .inferenceConfig }
            if `is`("stream_options") { return .streamOptions }
            return .none
        case .generationConfig: return `is`("maxOutputTokens") ? .generationMaxOutputTokens : .none
        // Bedrock Converse's cap, kept with Gemini's: no body sets both.
        case .inferenceConfig: return `is`("maxTokens") ? .generationMaxOutputTokens : .none
        case .streamOptions: return `is`("include_usage") ? .includeUsage : .none
        default: return .none
        }
    }

    // MARK: Tokens

    /// Reads the string starting at the quote under `i`; returns the offset of its closing quote,
    /// its length in UTF-8 bytes once escapes are decoded, and whether it had escapes.
    private mutating func string() throws(Failure) -> (end: Int, decodedBytes: Int, escaped: Bool) {
        i += 1
        var decoded = 0
        var escaped = false
        while i < p.count {
            let c = p[i]
            switch c {
            case UInt8(ascii: "\""):
                let end = i
                i += 1
                return (end, decoded, escaped)
            case UInt8(ascii: "\\"):
                escaped = true
                guard i + 1 < p.count else { throw Failure(message: "a string is not closed before the body ends") }
                switch p[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    decoded += 1
                    i += 2
                case UInt8(ascii: "u"):
                    guard let unit = hex4(at: i + 2) else { throw Failure(message: "a \\u escape needs four hex digits (byte \(i))") }
                    i += 6
                    switch unit {
                    case 0xD800..<0xDC00:
                        guard i + 5 < p.count, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u"),
                            let low = hex4(at: i + 2), (0xDC00..<0xE000).contains(low)
                        else { throw Failure(message: "a \\u escape of a high surrogate needs its low surrogate next (byte \(i - 6))") }
                        i += 6
                        decoded += 4
                    case 0xDC00..<0xE000:
                        throw Failure(message: "a \\u escape of a low surrogate has no high surrogate before it (byte \(i - 6))")
                    default:
                        decoded += unit < 0x80 ? 1 : unit < 0x800 ? 2 : 3
                    }
                default:
                    throw Failure(message: "invalid escape '\\\(Character(Unicode.Scalar(p[i + 1])))' in a string (byte \(i))")
                }
            case 0..<0x20:
                throw Failure(message: "a control character (0x\(String(c, radix: 16))) must be escaped in a string (byte \(i))")
            default:
                decoded += 1
                i += 1
            }
        }
        throw Failure(message: "a string is not closed before the body ends")
    }

    private func hex4(at offset: Int) -> UInt32? {
        guard offset + 4 <= p.count else { return nil }
        var unit: UInt32 = 0
        for k in offset..<(offset + 4) {
            let c = p[k]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            unit = unit << 4 | UInt32(digit)
        }
        return unit
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private mutating func number() throws(Failure) {
        let start = i
        if p[i] == UInt8(ascii: "-") { i += 1 }
        guard i < p.count, isDigit(p[i]) else { throw Failure(message: "invalid number at byte \(start)") }
        if p[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < p.count && isDigit(p[i]) { i += 1 }
        }
        if i < p.count && p[i] == UInt8(ascii: ".") {
            i += 1
            guard i < p.count, isDigit(p[i]) else { throw Failure(message: "invalid number at byte \(start)") }
            while i < p.count && isDigit(p[i]) { i += 1 }
        }
        if i < p.count && (p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E")) {
            i += 1
            if i < p.count && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { i += 1 }
            guard i < p.count, isDigit(p[i]) else { throw Failure(message: "invalid number at byte \(start)") }
            while i < p.count && isDigit(p[i]) { i += 1 }
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let n = word.utf8CodeUnitCount
        guard i + n <= p.count,
            UnsafeBufferPointer(start: word.utf8Start, count: n).elementsEqual(UnsafeBufferPointer(rebasing: p[i..<(i + n)]))
        else { throw unexpected("where a value should start") }
        i += n
    }

    private func text(_ range: Range<Int>, escaped: Bool) -> String? {
        let bytes = UnsafeBufferPointer(rebasing: p[range])
        return escaped ? JSONString.decode(bytes) : String(decoding: bytes, as: UTF8.self)
    }

    private func positiveInteger(_ range: Range<Int>) -> Int? {
        JSONScanner.integer(UnsafeBufferPointer(rebasing: p[range])).flatMap { $0 > 0 ? $0 : nil }
    }

    @inline(__always) private func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    @inline(__always) private mutating func skipSpace() {
        while i < p.count && JSONScanner.isSpace(p[i]) { i += 1 }
    }

    private func unexpected(_ place: String) -> Failure {
        let c = p[i]
        let shown = c >= 0x20 && c < 0x7F ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x\(String(c, radix: 16))"
        return Failure(message: "unexpected \(shown) \(place) (byte \(i))")
    }
}
