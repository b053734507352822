/// Which object keys a scan reports on, by what their values mean to metering.
///
/// Built once per stream (or per body) from the provider format; a scan compares each key it
/// meets against these few byte strings, so no key is ever turned into a `String`.
struct JSONScanKeys: Sendable {
    enum Role: UInt8, Sendable {
        case none
        /// The answering model's name (`model`, Gemini's `modelVersion`): the first string value.
        case model
        /// The usage object (`usage`, Gemini's `usageMetadata`): the last object value.
        case usage
        /// OpenAI's `choices`: noted when it is an empty list (the usage-only stream chunk).
        case choices
        /// Gemini's `finishReason`: a string value means the answer ended.
        case finish
        /// Generated text whose string values are counted for the output estimate.
        case text
    }

    private var keys: [(bytes: [UInt8], role: Role)]

    init(model: String, usage: String, text: [String], choices: Bool = false, finish: String? = nil) {
        keys = [(Array(model.utf8), .model), (Array(usage.utf8), .usage)]
        if choices { keys.append((Array("choices".utf8), .choices)) }
        if let finish { keys.append((Array(finish.utf8), .finish)) }
        keys += text.map { (Array($0.utf8), .text) }
    }

    /// The keys for one provider format and endpoint.
    ///
    /// Text keys pick the fields that carry newly generated text in that provider's stream
    /// events: OpenAI chat deltas' `content`, `reasoning_content` (DeepSeek and others),
    /// `refusal` and tool-call `arguments`; completions' `text`; the Responses API's `delta`
    /// (only `*.delta` events have a string `delta`); Anthropic's `text`, `thinking` and
    /// `partial_json` deltas; Gemini's part `text`.
    static func forFormat(_ format: ProviderFormat, endpoint: Endpoint) -> JSONScanKeys {
        switch format {
        case .openai where endpoint == .responses, .azure where endpoint == .responses: openAIResponses
        case .openai, .azure: openAI
        case .anthropic: anthropic
        case .gemini, .vertex: gemini  // `.vertex` is never a body format (`Route.format`)
        case .bedrock: bedrock
        }
    }

    // Built once: every answer and stream is scanned with one of these.
    private static let openAIResponses = JSONScanKeys(model: "model", usage: "usage", text: ["delta"])
    private static let openAI = JSONScanKeys(
        model: "model", usage: "usage", text: ["content", "text", "reasoning_content", "refusal", "arguments"],
        choices: true)
    private static let anthropic = JSONScanKeys(model: "model", usage: "usage", text: ["text", "thinking", "partial_json"])
    /// Converse's `usage` and text (`text`, tool `input`); InvokeModel's bodies: Anthropic's,
    /// and the text fields of other vendors' (`generation`, `outputText`, `completion`).
    private static let bedrock = JSONScanKeys(
        model: "model", usage: "usage", text: ["text", "input", "partial_json", "thinking", "generation", "outputText", "completion"])
    private static let gemini = JSONScanKeys(
        model: "modelVersion", usage: "usageMetadata", text: ["text"], finish: "finishReason")

    func role(of key: UnsafeBufferPointer<UInt8>) -> Role {
        for entry in keys where entry.bytes.count == key.count {
            let equal = entry.bytes.withUnsafeBufferPointer { candidate in
                candidate.elementsEqual(key)
            }
            if equal { return entry.role }
        }
        return .none
    }
}

/// What one pass over a JSON text found. Ranges are byte offsets into the scanned buffer.
struct JSONScan: Sendable, Equatable {
    /// The first model string, without its quotes (escapes, if any, still in place).
    var model: Range<Int>?
    /// The last usage object, braces included.
    var usage: Range<Int>?
    /// How deep the object holding that usage key is: 1 for a top-level key.
    var usageDepth = 0
    /// A `choices` key whose value is `[]`.
    var emptyChoices = false
    /// A finish key with a string value.
    var finished = false
    /// Characters (not bytes) in the string values of text keys; an escape counts as one.
    var textCharacters = 0
}

/// A single forward pass over JSON bytes that finds metering's few keys without building any
/// values: no allocation, linear time, safe on truncated or invalid input (it then reports what
/// it saw). Keys are told from string values by the `:` that follows them, so text inside
/// strings (where quotes are escaped) can never be mistaken for a key.
enum JSONScanner {
    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")
    private static let colon = UInt8(ascii: ":")

    static func scan(_ p: UnsafeBufferPointer<UInt8>, keys: JSONScanKeys) -> JSONScan {
        var result = JSONScan()
        let n = p.count
        var i = 0
        var depth = 0
        var role = JSONScanKeys.Role.none
        var usageStart = -1
        var usageOpenDepth = 0
        while i < n {
            let byte = p[i]
            switch byte {
            case quote:
                let start = i + 1
                let counting = role == .text
                var chars = 0
                var j = start
                while j < n {
                    let c = p[j]
                    if c == quote { break }
                    if c == backslash {
                        chars += 1
                        j += (j + 1 < n && p[j + 1] == UInt8(ascii: "u")) ? 6 : 2
                        continue
                    }
                    // Counts UTF-8 lead bytes only: one per character.
                    if counting && c & 0xC0 != 0x80 { chars += 1 }
                    j += 1
                }
                guard j < n else { return result }
                i = j + 1
                var k = i
                while k < n && isSpace(p[k]) { k += 1 }
                if k < n && p[k] == colon {
                    role = keys.role(of: UnsafeBufferPointer(rebasing: p[start..<j]))
                    i = k + 1
                } else {
                    switch role {
                    case .model where result.model == nil: result.model = start..<j
                    case .text: result.textCharacters += chars
                    case .finish: result.finished = true
                    default: break
                    }
                    role = .none
                }
                continue
            case UInt8(ascii: "{"):
                if role == .usage {
                    usageStart = i
                    usageOpenDepth = depth
                }
                depth += 1
                role = .none
            case UInt8(ascii: "["):
                if role == .choices {
                    var k = i + 1
                    while k < n && isSpace(p[k]) { k += 1 }
                    if k < n && p[k] == UInt8(ascii: "]") { result.emptyChoices = true }
                }
                depth += 1
                role = .none
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if usageStart >= 0 && depth == usageOpenDepth {
                    result.usage = usageStart..<(i + 1)
                    result.usageDepth = usageOpenDepth
                    usageStart = -1
                }
                role = .none
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"), UInt8(ascii: ","):
                break
            default:
                // A number or a literal (true, false, null): the pending key's value is not ours.
                role = .none
            }
            i += 1
        }
        return result
    }

    /// The byte range of the value of `key` in the top-level object of `p` (a string value
    /// includes its quotes), or nil if the text is not an object or has no such key.
    static func topLevelValue(of key: String, in p: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        let wanted = Array(key.utf8)
        var found: Range<Int>?
        forEachMember(of: p) { name, value in
            guard name.elementsEqual(wanted) else { return true }
            found = value
            return false
        }
        return found
    }

    /// Calls `body` with each member of the object `p` holds, in order: the key's bytes (between
    /// its quotes, escapes still in place) and the byte range of its value. `body` returns false
    /// to stop. Returns false if `p` is not an object or ends early (members seen so far were
    /// still reported).
    @discardableResult
    static func forEachMember(
        of p: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>, Range<Int>) -> Bool
    ) -> Bool {
        let n = p.count
        var i = 0
        while i < n && isSpace(p[i]) { i += 1 }
        guard i < n, p[i] == UInt8(ascii: "{") else { return false }
        i += 1
        while i < n {
            while i < n && (isSpace(p[i]) || p[i] == UInt8(ascii: ",")) { i += 1 }
            guard i < n else { return false }
            if p[i] == UInt8(ascii: "}") { return true }
            guard p[i] == quote, let keyEnd = stringEnd(p, from: i) else { return false }
            let name = UnsafeBufferPointer(rebasing: p[(i + 1)..<(keyEnd - 1)])
            i = keyEnd
            while i < n && isSpace(p[i]) { i += 1 }
            guard i < n, p[i] == colon else { return false }
            i += 1
            while i < n && isSpace(p[i]) { i += 1 }
            guard i < n, let valueEnd = valueEnd(p, from: i) else { return false }
            guard body(name, i..<valueEnd) else { return true }
            i = valueEnd
        }
        return false
    }

    /// The integer a JSON number spells, if it is one that fits an `Int` (`12`, `-3`, `12.0`,
    /// `1e3`); nil for fractions, other values and out-of-range numbers.
    static func integer(_ p: UnsafeBufferPointer<UInt8>) -> Int? {
        var value = 0
        var negative = false
        var i = 0
        if i < p.count && p[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < p.count else { return nil }
        while i < p.count {
            let digit = p[i] &- UInt8(ascii: "0")
            guard digit < 10 else {
                // A fraction or exponent: rare in token counts, so the slow exact path.
                guard let double = Double(String(decoding: p, as: UTF8.self)) else { return nil }
                return Int(exactly: double)
            }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(digit))
            guard !o1 && !o2 else { return nil }
            value = sum
            i += 1
        }
        return negative ? -value : value
    }

    /// The offset just past the string starting at `start` (a quote), or nil if it never ends.
    private static func stringEnd(_ p: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var j = start + 1
        while j < p.count {
            if p[j] == backslash {
                j += 2
                continue
            }
            if p[j] == quote { return j + 1 }
            j += 1
        }
        return nil
    }

    /// The offset just past the JSON value starting at `start`.
    private static func valueEnd(_ p: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        switch p[start] {
        case quote:
            return stringEnd(p, from: start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var j = start
            while j < p.count {
                switch p[j] {
                case quote:
                    guard let end = stringEnd(p, from: j) else { return nil }
                    j = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return j + 1 }
                default: break
                }
                j += 1
            }
            return nil
        default:
            var j = start
            while j < p.count {
                switch p[j] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: " "), UInt8(ascii: "\n"),
                    UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                    return j
                default: j += 1
                }
            }
            return j
        }
    }

    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }
}
