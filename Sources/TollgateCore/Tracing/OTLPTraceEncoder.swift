/// One proxied request as an OpenTelemetry span: its usage event and its trace context.
package struct FinishedSpan: Sendable {
    package var event: UsageEvent
    package var trace: TraceContext
    /// The model the client asked for (the event's `model` is the one the provider reported).
    package var requestedModel: String

    package init(event: UsageEvent, trace: TraceContext, requestedModel: String) {
        self.event = event
        self.trace = trace
        self.requestedModel = requestedModel
    }
}

/// Writes spans as an OTLP/HTTP JSON `ExportTraceServiceRequest` (SPEC §15): one span per proxied
/// request, named and attributed after OpenTelemetry's GenAI semantic conventions, plus
/// Tollgate's own `tollgate.*` attributes. Metadata only: no prompt or completion text, and not
/// the provider's error message (which may quote the prompt), only the outcome.
///
/// Written by hand rather than through swift-otel: that library brings gRPC, AsyncHTTPClient and
/// SwiftProtobuf (a 7-minute first build here, and a second HTTP stack beside libcurl) for what
/// is, for one span kind, a page of JSON. OTLP/JSON is part of the OTLP specification and every
/// collector accepts it on `/v1/traces`.
package enum OTLPTraceEncoder {
    /// The request body for `spans`, from the service `serviceName` (with extra resource attributes).
    package static func encode(_ spans: [FinishedSpan], serviceName: String, resource: [(String, String)] = [], version: String)
        -> [UInt8]
    {
        var out: [UInt8] = []
        out.reserveCapacity(256 + spans.count * 900)
        out += #"{"resourceSpans":[{"resource":{"attributes":["#.utf8
        attribute("service.name", string: serviceName, into: &out)
        for (key, value) in resource {
            out += #",{"key":"#.utf8
            string(key, into: &out)
            out += #","value":{"stringValue":"#.utf8
            string(value, into: &out)
            out += "}}".utf8
        }
        out += #"]},"scopeSpans":[{"scope":{"name":"tollgate","version":"#.utf8
        string(version, into: &out)
        out += #"},"spans":["#.utf8
        for (index, span) in spans.enumerated() {
            if index > 0 { out.append(comma) }
            write(span, into: &out)
        }
        out += "]}]}]}".utf8
        return out
    }

    /// GenAI's `gen_ai.operation.name` for an endpoint; nil for unmetered paths.
    package static func operation(_ endpoint: Endpoint) -> String? {
        switch endpoint {
        case .chat, .messages, .responses: "chat"
        case .completion: "text_completion"
        case .embedding: "embeddings"
        case .generate: "generate_content"
        case .other: nil
        }
    }

    /// GenAI's `gen_ai.provider.name` for Tollgate's built-in provider names; a configured
    /// provider is named as configured.
    package static func providerName(_ provider: String) -> String {
        switch provider {
        case "gemini": "gcp.gemini"
        case "vertex": "gcp.vertex_ai"
        case "bedrock": "aws.bedrock"
        case "azure": "azure.ai.openai"
        case "mistral": "mistral_ai"
        case "xai": "x_ai"
        default: provider
        }
    }

    private static func write(_ span: FinishedSpan, into out: inout [UInt8]) {
        let event = span.event
        let operation = operation(event.endpoint)
        let start = Int64(event.startedAtMs) * 1_000_000
        let end = start + Int64((event.latencyMs * 1_000_000).rounded())
        let name = operation.map { span.requestedModel.isEmpty ? $0 : $0 + " " + span.requestedModel } ?? "tollgate " + event.provider
        out += #"{"traceId":""#.utf8
        out += span.trace.traceID.utf8
        out += #"","spanId":""#.utf8
        out += span.trace.spanID.utf8
        if let parent = span.trace.parentSpanID {
            out += #"","parentSpanId":""#.utf8
            out += parent.utf8
        }
        out += #"","name":"#.utf8
        string(name, into: &out)
        // SPAN_KIND_CLIENT: the GenAI conventions' kind for a call to a model.
        out += #","kind":3,"startTimeUnixNano":""#.utf8
        integer(start, into: &out)
        out += #"","endTimeUnixNano":""#.utf8
        integer(end, into: &out)
        out += #"","attributes":["#.utf8
        var first = true
        func next() {
            if !first { out.append(comma) }
            first = false
        }
        if let operation {
            next()
            attribute("gen_ai.operation.name", string: operation, into: &out)
        }
        next()
        attribute("gen_ai.provider.name", string: providerName(event.provider), into: &out)
        if !span.requestedModel.isEmpty {
            next()
            attribute("gen_ai.request.model", string: span.requestedModel, into: &out)
        }
        if event.status > 0 && event.status < 400 && !event.model.isEmpty {
            next()
            attribute("gen_ai.response.model", string: event.model, into: &out)
        }
        if event.endpoint.isMetered {
            next()
            attribute("gen_ai.usage.input_tokens", int: Int64(event.usage.inputTokens), into: &out)
            next()
            attribute("gen_ai.usage.output_tokens", int: Int64(event.usage.outputTokens), into: &out)
        }
        next()
        // Exact: the decimal text of the integer nano-dollars, as a JSON number.
        out += #"{"key":"tollgate.cost_usd","value":{"doubleValue":"#.utf8
        out += Money.decimalString(event.costNanos).utf8
        out += "}}".utf8
        next()
        attribute("tollgate.org", string: event.org, into: &out)
        next()
        attribute("tollgate.key_id", string: event.keyID, into: &out)
        if let team = event.team {
            next()
            attribute("tollgate.team", string: team, into: &out)
        }
        next()
        attribute("tollgate.outcome", string: event.outcome.rawValue, into: &out)
        next()
        attribute("tollgate.request_id", string: event.requestID, into: &out)
        next()
        out += #"{"key":"tollgate.cached","value":{"boolValue":"#.utf8
        out += (event.cached ? "true" : "false").utf8
        out += "}}".utf8
        if event.status > 0 {
            next()
            attribute("http.response.status_code", int: Int64(event.status), into: &out)
        }
        if event.outcome != .ok {
            next()
            attribute("error.type", string: event.outcome.rawValue, into: &out)
        }
        // STATUS_CODE_OK / STATUS_CODE_ERROR.
        out += event.outcome == .ok ? #"],"status":{"code":1}}"#.utf8 : #"],"status":{"code":2}}"#.utf8
    }

    /// `key` is one of the constant names above: plain ASCII, written without escaping.
    private static func attribute(_ key: StaticString, string value: String, into out: inout [UInt8]) {
        out += #"{"key":""#.utf8
        out += UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        out += #"","value":{"stringValue":"#.utf8
        string(value, into: &out)
        out += "}}".utf8
    }

    /// OTLP/JSON writes 64-bit integers as strings.
    private static func attribute(_ key: StaticString, int value: Int64, into out: inout [UInt8]) {
        out += #"{"key":""#.utf8
        out += UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        out += #"","value":{"intValue":""#.utf8
        integer(value, into: &out)
        out += #""}}"#.utf8
    }

    /// A JSON string literal; values without characters to escape (ids, models, names: nearly
    /// all) are copied as they are, the rest go through `JSONText`.
    private static func string(_ value: String, into out: inout [UInt8]) {
        if value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += JSONText.quoted(value).utf8
        } else {
            out.append(UInt8(ascii: "\""))
            out += value.utf8
            out.append(UInt8(ascii: "\""))
        }
    }

    private static func integer(_ value: Int64, into out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: [UInt8] = []
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        out += digits.reversed()
    }

    private static let comma = UInt8(ascii: ",")
}
