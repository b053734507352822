import Foundation
import Testing
@testable import TollgateCore

@Suite("Tracing: W3C traceparent continued, spans as OTLP/JSON with the GenAI attributes")
struct TracingTests {
    @Test("A valid traceparent is continued: same trace, the client's span as parent, its sampled flag")
    func continuesTheClientsTrace() {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let trace = TraceContext(continuing: parent)
        #expect(trace.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(trace.parentSpanID == "00f067aa0ba902b7")
        #expect(trace.sampled)
        #expect(trace.spanID.utf8.count == 16 && trace.spanID != "00f067aa0ba902b7")
        #expect(trace.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-\(trace.spanID)-01")
        let unsampled = TraceContext(continuing: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
        #expect(!unsampled.sampled && unsampled.traceparent.hasSuffix("-00"))
        // A later version may add fields after the four it shares with version 00.
        #expect(TraceContext(continuing: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future").parentSpanID == "00f067aa0ba902b7")
    }

    @Test("An invalid traceparent starts a new sampled trace", arguments: [
        "", "garbage", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ])
    func startsANewTrace(header: String) {
        let trace = TraceContext(continuing: header)
        #expect(trace.parentSpanID == nil && trace.sampled)
        #expect(trace.traceID.utf8.count == 32 && trace.traceID != "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(TraceContext(continuing: nil).traceID != trace.traceID, "random ids")
    }

    @Test("A span in OTLP/JSON: ids, times, GenAI and tollgate attributes, exact cost, and no error text")
    func encodesASpan() throws {
        var event = UsageEvent(
            requestID: "req_1", startedAtMs: 1_796_533_200_000, org: "acme", keyID: "key_1", team: "search", provider: "gemini",
            endpoint: .generate, model: "gemini-2.5-flash-001", status: 200, outcome: .ok, usage: Usage(inputTokens: 12, outputTokens: 9),
            costNanos: 7_350, latencyMs: 12.5)
        let trace = TraceContext(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "a1b2c3d4e5f60718", parentSpanID: "00f067aa0ba902b7", sampled: true)
        var failed = event
        failed.outcome = .budgetBlocked
        failed.status = 429
        failed.error = "the prompt said: secret plans"
        event.cached = true
        let body = OTLPTraceEncoder.encode(
            [FinishedSpan(event: event, trace: trace, requestedModel: "gemini-2.5-flash"), FinishedSpan(event: failed, trace: trace, requestedModel: "gemini-2.5-flash")],
            serviceName: "tollgate-eu", resource: [("deployment.environment", "prod")], version: "1")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let resourceSpans = try #require((root["resourceSpans"] as? [[String: Any]])?.first)
        let resource = try #require((resourceSpans["resource"] as? [String: Any])?["attributes"] as? [[String: Any]])
        #expect(resource.count == 2)
        let spans = try #require(((resourceSpans["scopeSpans"] as? [[String: Any]])?.first?["spans"]) as? [[String: Any]])
        #expect(spans.count == 2)
        let span = spans[0]
        #expect(span["traceId"] as? String == trace.traceID && span["spanId"] as? String == trace.spanID)
        #expect(span["parentSpanId"] as? String == "00f067aa0ba902b7")
        #expect(span["name"] as? String == "generate_content gemini-2.5-flash")
        #expect(span["kind"] as? Int == 3)
        #expect(span["startTimeUnixNano"] as? String == "1796533200000000000")
        #expect(span["endTimeUnixNano"] as? String == "1796533200012500000")
        var attributes: [String: Any] = [:]
        for attribute in span["attributes"] as? [[String: Any]] ?? [] {
            attributes[attribute["key"] as! String] = (attribute["value"] as! [String: Any]).values.first
        }
        #expect(attributes["gen_ai.operation.name"] as? String == "generate_content")
        #expect(attributes["gen_ai.provider.name"] as? String == "gcp.gemini")
        #expect(attributes["gen_ai.request.model"] as? String == "gemini-2.5-flash")
        #expect(attributes["gen_ai.response.model"] as? String == "gemini-2.5-flash-001")
        #expect(attributes["gen_ai.usage.input_tokens"] as? String == "12")
        #expect(attributes["gen_ai.usage.output_tokens"] as? String == "9")
        #expect(attributes["tollgate.org"] as? String == "acme" && attributes["tollgate.key_id"] as? String == "key_1")
        #expect(attributes["tollgate.team"] as? String == "search" && attributes["tollgate.outcome"] as? String == "ok")
        #expect(attributes["tollgate.cached"] as? Bool == true)
        #expect(String(decoding: body, as: UTF8.self).contains(#""doubleValue":0.00000735}"#), "the cost's exact decimal")
        #expect((span["status"] as? [String: Any])?["code"] as? Int == 1)
        #expect((spans[1]["status"] as? [String: Any])?["code"] as? Int == 2)
        #expect(!String(decoding: body, as: UTF8.self).contains("secret plans"))
    }
}
