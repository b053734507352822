/// Observes a streamed (server-sent events) answer on its way to the client: finds the model and
/// usage, estimates output from the text seen in case the stream is cut short, and — when
/// Tollgate injected `stream_options.include_usage` — removes the usage-only chunk the client
/// did not ask for.
///
/// A pure state machine in SwiftNIO's style: fed chunks as they arrive, it returns the bytes to
/// send on; no I/O, no clock. Events may be split across chunks anywhere (even inside a `\r\n`).
///
/// - Without stripping, every byte is forwarded at once, as it arrived, and a copy of the event
///   data is parsed (`observe(_:)` skips the copy when the caller forwards its own buffer).
/// - With stripping, each event is held until its terminating blank line arrives, then
///   forwarded unchanged — unless it is OpenAI's usage chunk (`"choices":[]` and a non-null
///   `usage`), which is consumed. Every other byte reaches the client unchanged and in order.
///
/// Cost per chunk: one pass to split lines, one copy of each event's `data:` payload, one
/// `JSONScanner` pass per event; only usage objects are decoded, so the `"usage":null` that
/// every chunk of an include_usage stream carries costs nothing extra.
package struct StreamMeter: StreamUsage {
    package let format: ProviderFormat
    package let endpoint: Endpoint
    package let stripUsageChunk: Bool

    /// The model the provider reported (first seen).
    package private(set) var model: String?
    /// Whether the provider's final usage was seen: OpenAI's usage chunk, the Responses API's
    /// `response.completed` usage, Anthropic's `message_delta` usage, or Gemini's
    /// `usageMetadata` with a finish reason.
    package private(set) var usageComplete = false
    /// Characters of generated text seen in delta events.
    package private(set) var textCharacters = 0

    private let keys: JSONScanKeys
    private var reported: ProviderUsage?
    private var finishSeen = false

    // Line and event assembly.
    private var line: [UInt8] = []
    private var lineTooLong = false
    /// The previous byte was a `\r` ending a non-blank line: a `\n` right after belongs to it.
    private var skipLF = false
    /// A blank line ended with `\r` as the chunk's last byte: the event ends once we know
    /// whether a `\n` follows (it belongs to the event's raw bytes).
    private var blankLinePendingLF = false
    private var data: [UInt8] = []
    private var hasData = false
    private var dataTooLong = false
    /// Raw bytes of the event in progress (stripping only).
    private var held: [UInt8] = []

    /// Events larger than this are forwarded but not parsed (a misbehaving upstream cannot make
    /// Tollgate buffer without bound just to meter it).
    static let maxEventBytes = 16 << 20

    package init(format: ProviderFormat, endpoint: Endpoint, stripUsageChunk: Bool) {
        self.format = format
        self.endpoint = endpoint
        self.stripUsageChunk = stripUsageChunk
        self.keys = JSONScanKeys.forFormat(format, endpoint: endpoint)
    }

    // MARK: Feeding

    /// Feeds the next chunk; returns the bytes to send to the client now.
    package mutating func feed(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        if !stripUsageChunk {
            out = Array(bytes)
            var unused: [UInt8] = []
            out.withUnsafeBufferPointer { consume($0, out: &unused) }
            return out
        }
        out.reserveCapacity(bytes.count + held.count)
        let done: Void? = bytes.withContiguousStorageIfAvailable { consume($0, out: &out) }
        if done == nil { Array(bytes).withUnsafeBufferPointer { consume($0, out: &out) } }
        return out
    }

    /// Parses the next chunk without returning bytes: for callers that forward their own buffer
    /// unchanged, which is only right when not stripping.
    package mutating func observe(_ bytes: some Collection<UInt8>) {
        precondition(!stripUsageChunk, "a stripping meter decides what is forwarded: use feed(_:)")
        var unused: [UInt8] = []
        let done: Void? = bytes.withContiguousStorageIfAvailable { consume($0, out: &unused) }
        if done == nil { Array(bytes).withUnsafeBufferPointer { consume($0, out: &unused) } }
    }

    /// Ends the stream: parses a last event that had no closing blank line and returns anything
    /// still held back.
    package mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        if blankLinePendingLF {
            blankLinePendingLF = false
            endEvent(rawEnd: 0, in: UnsafeBufferPointer(start: nil, count: 0), segmentStart: 0, out: &out)
        }
        if !line.isEmpty && !lineTooLong { finishLine(UnsafeBufferPointer(start: nil, count: 0)) }
        if hasData {
            // The stream ended mid-event; a usage chunk there is still counted (and still stripped).
            let strip = dispatch()
            if stripUsageChunk && strip { held.removeAll() }
        }
        if stripUsageChunk {
            out.append(contentsOf: held)
            held.removeAll()
        }
        return out
    }

    // MARK: Results

    /// What the provider reported so far, normalized; nil if nothing yet.
    package var usage: Usage? { reported?.normalized(format) }


    // MARK: Parsing

    /// Splits `p` into lines and events: complete events are appended to `out` when stripping
    /// (the rest is held); without stripping `out` is untouched, the caller forwards `p` itself.
    private mutating func consume(_ p: UnsafeBufferPointer<UInt8>, out: inout [UInt8]) {
        let n = p.count
        var i = 0
        var segmentStart = 0
        if blankLinePendingLF {
            blankLinePendingLF = false
            if n > 0 && p[0] == Self.lf { i = 1 }
            endEvent(rawEnd: i, in: p, segmentStart: segmentStart, out: &out)
            segmentStart = i
        } else if skipLF {
            skipLF = false
            if n > 0 && p[0] == Self.lf { i = 1 }
        }
        var lineStart = i
        while i < n {
            let byte = p[i]
            guard byte == Self.lf || byte == Self.cr else {
                i += 1
                continue
            }
            let blank = line.isEmpty && !lineTooLong && lineStart == i
            if !blank { finishLine(UnsafeBufferPointer(rebasing: p[lineStart..<i])) }
            i += 1
            if byte == Self.cr {
                // \r\n is one terminator; a lone \r is one too (SSE allows all three).
                if i < n {
                    if p[i] == Self.lf { i += 1 }
                } else if blank {
                    blankLinePendingLF = true
                    lineStart = i
                    break
                } else {
                    skipLF = true
                }
            }
            lineStart = i
            if blank {
                endEvent(rawEnd: i, in: p, segmentStart: segmentStart, out: &out)
                segmentStart = i
            }
        }
        if lineStart < n { appendToLine(UnsafeBufferPointer(rebasing: p[lineStart..<n])) }
        if stripUsageChunk && segmentStart < n { held.append(contentsOf: UnsafeBufferPointer(rebasing: p[segmentStart..<n])) }
    }

    /// A line's last piece arrived: handle it, from the chunk directly when it did not span chunks.
    private mutating func finishLine(_ tail: UnsafeBufferPointer<UInt8>) {
        if line.isEmpty && !lineTooLong {
            handleLine(tail)
            return
        }
        appendToLine(tail)
        if !lineTooLong {
            // Moved out so handleLine can mutate self while reading it; moved back to keep capacity.
            var current: [UInt8] = []
            swap(&current, &line)
            current.withUnsafeBufferPointer { handleLine($0) }
            current.removeAll(keepingCapacity: true)
            line = current
        }
        line.removeAll(keepingCapacity: true)
        lineTooLong = false
    }

    private mutating func appendToLine(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !bytes.isEmpty else { return }
        if line.count + bytes.count > Self.maxEventBytes {
            lineTooLong = true
            line.removeAll()
            return
        }
        if !lineTooLong { line.append(contentsOf: bytes) }
    }

    /// One SSE line (no terminator, not blank): `data:` payloads are collected, the rest
    /// (`event:`, `id:`, `retry:`, comments) carries nothing metering needs.
    private mutating func handleLine(_ line: UnsafeBufferPointer<UInt8>) {
        guard line.count >= 4, line[0] == UInt8(ascii: "d"), line[1] == UInt8(ascii: "a"), line[2] == UInt8(ascii: "t"),
            line[3] == UInt8(ascii: "a")
        else { return }
        var start = 4
        if line.count > 4 {
            guard line[4] == UInt8(ascii: ":") else { return }
            start = 5
            if line.count > 5 && line[5] == UInt8(ascii: " ") { start = 6 }
        }
        let value = UnsafeBufferPointer(rebasing: line[start...])
        if hasData { appendData(CollectionOfOne(Self.lf)) }
        appendData(value)
        hasData = true
    }

    private mutating func appendData(_ bytes: some Collection<UInt8>) {
        guard !dataTooLong else { return }
        if data.count + bytes.count > Self.maxEventBytes {
            dataTooLong = true
            data.removeAll()
            return
        }
        data.append(contentsOf: bytes)
    }

    /// A blank line ended an event whose raw bytes are `held` + `p[segmentStart..<rawEnd]`.
    private mutating func endEvent(
        rawEnd: Int, in p: UnsafeBufferPointer<UInt8>, segmentStart: Int, out: inout [UInt8]
    ) {
        let strip = hasData ? dispatch() : false
        guard stripUsageChunk else { return }
        if !strip {
            if !held.isEmpty { out.append(contentsOf: held) }
            if segmentStart < rawEnd { out.append(contentsOf: UnsafeBufferPointer(rebasing: p[segmentStart..<rawEnd])) }
        }
        held.removeAll(keepingCapacity: true)
    }

    /// Reads one event's data; returns whether it is the usage-only chunk to strip.
    private mutating func dispatch() -> Bool {
        defer {
            data.removeAll(keepingCapacity: true)
            hasData = false
            dataTooLong = false
        }
        guard !dataTooLong, !data.isEmpty, data.first != UInt8(ascii: "[") else { return false }  // [DONE]
        let keys = self.keys
        let (scan, model, usage) = data.withUnsafeBufferPointer { p in
            let scan = JSONScanner.scan(p, keys: keys)
            let model = scan.model.flatMap { JSONString.decode(UnsafeBufferPointer(rebasing: p[$0])) }
            let usage = scan.usage.flatMap { ProviderUsage(json: UnsafeBufferPointer(rebasing: p[$0])) }
            return (scan, model, usage)
        }
        textCharacters += scan.textCharacters
        // Azure leads its streams with a content-filter event whose model is "".
        if self.model == nil, let model, !model.isEmpty { self.model = model }
        if scan.finished { finishSeen = true }
        if let usage, usage != ProviderUsage() { record(usage, depth: scan.usageDepth) }
        return stripUsageChunk && scan.emptyChoices && scan.usage != nil
    }

    private mutating func record(_ usage: ProviderUsage, depth: Int) {
        switch format {
        case .openai, .azure:
            // Chat/completions: the usage chunk at the end; Responses: response.completed (or
            // .incomplete / .failed), the only events whose response.usage is not null.
            reported = usage
            usageComplete = true
        case .anthropic, .bedrock:  // Bedrock streams are event streams (`BedrockStreamMeter`), not SSE
            // message_start carries message.usage (depth 2); message_delta a top-level usage with
            // the cumulative output (and, in newer API versions, the input fields restated).
            reported = reported.map { $0.merging(usage) } ?? usage
            if depth == 1 { usageComplete = true }
        case .gemini, .vertex:  // `.vertex` is never a body format (`Route.format`)
            // Every chunk may carry running counts; the last wins, final once the answer finished.
            reported = usage
            usageComplete = finishSeen
        }
    }

    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")
}

/// What a stream meter (SSE: `StreamMeter`; AWS event streams: `BedrockStreamMeter`) has seen,
/// and the usage to record from it.
package protocol StreamUsage: Sendable {
    /// The model the provider reported (first seen).
    var model: String? { get }
    /// What the provider reported so far, normalized; nil if nothing yet.
    var usage: Usage? { get }
    /// Whether the provider's final usage was seen.
    var usageComplete: Bool { get }
    /// Characters of generated text seen.
    var textCharacters: Int { get }
}

extension StreamUsage {
    /// Output tokens estimated from the generated text seen: one token per 4 characters, rounded
    /// up (OpenAI's rule of thumb for English). Used only when the provider's count never came.
    package var estimatedOutputTokens: Int { (textCharacters + 3) / 4 }

    /// Usage and where it came from. With the provider's final figures: those, `.provider`.
    /// Otherwise (a stream cut short) `.estimated`: whatever the provider did report (Anthropic's
    /// input from `message_start`, Gemini's running counts) with the output raised to the
    /// estimate from the text seen, and `estimatedInputTokens` (from the request) when the
    /// provider never said the input.
    package func result(estimatedInputTokens: Int) -> (usage: Usage, source: UsageSource) {
        if usageComplete, let usage { return (usage, .provider) }
        var partial = usage ?? Usage()
        if partial.inputTokens == 0 { partial.inputTokens = estimatedInputTokens }
        partial.outputTokens = max(partial.outputTokens, estimatedOutputTokens)
        return (partial, .estimated)
    }

    /// `result(estimatedInputTokens:)` with the reported model.
    package func metered(estimatedInputTokens: Int) -> MeteredUsage {
        let (usage, source) = result(estimatedInputTokens: estimatedInputTokens)
        return MeteredUsage(model: model, usage: usage, source: source)
    }
}
