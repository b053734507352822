import Foundation
import Testing
@testable import TollgateCore

/// AWS's event-stream framing, built here the way the protocol defines it (prelude, headers,
/// payload, two CRCs), so the decoder is checked against frames the test writes byte by byte.
enum EventStreamFrame {
    static func make(_ headers: [(String, String)], payload: [UInt8], extraHeaderBytes: [UInt8] = []) -> [UInt8] {
        var head: [UInt8] = extraHeaderBytes
        for (name, value) in headers {
            head.append(UInt8(name.utf8.count))
            head += Array(name.utf8)
            head.append(7)
            head += [UInt8(value.utf8.count >> 8), UInt8(value.utf8.count & 0xFF)]
            head += Array(value.utf8)
        }
        let total = 12 + head.count + payload.count + 4
        var frame = be(UInt32(total)) + be(UInt32(head.count))
        frame += be(CRC32.checksum(frame))
        frame += head + payload
        frame += be(CRC32.checksum(frame))
        return frame
    }

    static func event(_ type: String, _ json: String) -> [UInt8] {
        make([(":message-type", "event"), (":event-type", type), (":content-type", "application/json")], payload: Array(json.utf8))
    }

    /// An InvokeModelWithResponseStream chunk: the model's own event, base64 in `bytes`.
    static func chunk(_ json: String) -> [UInt8] {
        event("chunk", #"{"bytes":"\#(Data(json.utf8).base64EncodedString())"}"#)
    }

    private static func be(_ n: UInt32) -> [UInt8] { [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] }
}

@Suite("Bedrock: Signature V4, event-stream framing, stream and answer metering")
struct BedrockTests {
    static let credentials = AWSSigner.Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    /// 2026-12-06T05:00:00Z.
    static let nowMs: Int64 = 1_796_533_200_000

    // The expected signatures were computed by botocore 1.44.18's own signer
    // (`botocore.auth.SigV4Auth`, service "bedrock", region us-east-1, with the request's
    // `x-amz-date` as its timestamp), which is what boto3 and AWS agree on.
    @Test("Signature V4 equals botocore's: the model id's %3A encoded again, host with port")
    func signatureMatchesBotocore() throws {
        let signer = AWSSigner(credentials: Self.credentials, region: "us-east-1", service: "bedrock")
        let headers = signer.sign(
            method: "POST", url: "http://127.0.0.1:9000/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse",
            body: Array(#"{"messages":[]}"#.utf8), nowMs: Self.nowMs)
        #expect(headers.map(\.name) == ["host", "x-amz-date", "authorization"])
        #expect(headers[0].value == "127.0.0.1:9000")
        #expect(headers[1].value == "20261206T050000Z")
        #expect(
            headers[2].value
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=d93a7496a62da57002924ad337fca5e18c802b5771a4443a118d208c970d9fc6"
        )
    }

    @Test("Signature V4 with a session token and a query: the token signed, parameters sorted and re-encoded")
    func signatureWithSessionTokenAndQuery() throws {
        var credentials = Self.credentials
        credentials.sessionToken = "FQoGZXIvYXdzEXAMPLE"
        let signer = AWSSigner(credentials: credentials, region: "us-east-1", service: "bedrock")
        let headers = signer.sign(
            method: "POST", url: "https://bedrock-runtime.us-east-1.amazonaws.com:443/model/amazon.nova-lite-v1%3A0/invoke?b=2&a=x%20y",
            body: Array("{}".utf8), nowMs: Self.nowMs)
        #expect(headers[0] == ("host", "bedrock-runtime.us-east-1.amazonaws.com"))
        #expect(headers[2] == ("x-amz-security-token", "FQoGZXIvYXdzEXAMPLE"))
        #expect(headers[3].value.hasSuffix("SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=6c2c917a27055b86043100712e1421c51eb731988e0f9023cf9ef3e51dcf6697"))
    }

    @Test("The signing key follows the day: a cached key is not reused the next day")
    func signingKeyPerDay() {
        let signer = AWSSigner(credentials: Self.credentials, region: "us-east-1", service: "bedrock")
        let url = "http://127.0.0.1:9000/model/m/converse"
        let today = signer.sign(method: "POST", url: url, body: [UInt8](), nowMs: Self.nowMs)
        let tomorrow = signer.sign(method: "POST", url: url, body: [UInt8](), nowMs: Self.nowMs + 86_400_000)
        let fresh = AWSSigner(credentials: Self.credentials, region: "us-east-1", service: "bedrock")
            .sign(method: "POST", url: url, body: [UInt8](), nowMs: Self.nowMs + 86_400_000)
        #expect(tomorrow[2].value.contains("/20261207/"))
        #expect(tomorrow[2].value == fresh[2].value)
        #expect(today[2].value != tomorrow[2].value)
    }

    @Test("x-amz-date in UTC across a leap day and a year's end")
    func amzDate() {
        func date(_ ms: Int64) -> String { String(decoding: AWSSigner.amzDate(nowMs: ms), as: UTF8.self) }
        #expect(date(951_868_799_000) == "20000229T235959Z")
        #expect(date(951_868_800_000) == "20000301T000000Z")
        #expect(date(1_798_761_599_999) == "20261231T235959Z")
        #expect(date(0) == "19700101T000000Z")
    }

    @Test("CRC-32 is zlib's (check value of \"123456789\")")
    func crc32() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test("Event-stream frames decode whole and split at every byte; non-string headers are skipped")
    func decodesFramesSplitAnywhere() {
        // A timestamp header (type 8, 8 bytes) and a bool (type 0) ahead of the string headers.
        let odd: [UInt8] = [2, 0x74, 0x73, 8, 0, 0, 1, 0x8C, 0, 0, 0, 0] + [1, 0x62, 0]
        let frames =
            EventStreamFrame.event("messageStart", #"{"role":"assistant"}"#)
            + EventStreamFrame.make([(":message-type", "event"), (":event-type", "metadata")], payload: Array("{}".utf8), extraHeaderBytes: odd)
        var whole = AWSEventStreamDecoder()
        var all: [AWSEventStreamDecoder.Message] = []
        whole.feed(frames) { all.append($0) }
        #expect(all.count == 2)
        #expect(all[0].headers[":event-type"] == "messageStart")
        #expect(all[0].payload == Array(#"{"role":"assistant"}"#.utf8))
        #expect(all[1].headers == [":message-type": "event", ":event-type": "metadata"])
        var split = AWSEventStreamDecoder()
        var pieces: [AWSEventStreamDecoder.Message] = []
        for byte in frames { split.feed(CollectionOfOne(byte)) { pieces.append($0) } }
        #expect(pieces == all)
        #expect(split.failure == nil && split.bufferedBytes == 0)
    }

    @Test("A frame whose CRC fails stops decoding for good; a huge claimed length is refused")
    func crcFailureStops() {
        var first = EventStreamFrame.event("contentBlockDelta", #"{"delta":{"text":"hi"}}"#)
        first[first.count - 6] ^= 0x01  // a payload byte: the message CRC no longer matches
        var decoder = AWSEventStreamDecoder()
        var seen = 0
        decoder.feed(first + EventStreamFrame.event("metadata", "{}")) { _ in seen += 1 }
        #expect(seen == 0)
        #expect(decoder.failure?.contains("CRC") == true)

        var prelude: [UInt8] = [0x7F, 0, 0, 0, 0, 0, 0, 0]
        prelude += withUnsafeBytes(of: CRC32.checksum(prelude).bigEndian, Array.init)
        var huge = AWSEventStreamDecoder()
        huge.feed(prelude) { _ in seen += 1 }
        #expect(huge.failure?.contains("claims") == true)
    }

    @Test("ConverseStream: usage from the metadata event (cache reads and writes inside input), text counted")
    func converseStream() {
        var meter = BedrockStreamMeter()
        let stream =
            EventStreamFrame.event("messageStart", #"{"role":"assistant"}"#)
            + EventStreamFrame.event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Hello there"}}"#)
            + EventStreamFrame.event("contentBlockStop", #"{"contentBlockIndex":0}"#)
            + EventStreamFrame.event("messageStop", #"{"stopReason":"end_turn"}"#)
            + EventStreamFrame.event(
                "metadata", #"{"usage":{"inputTokens":12,"outputTokens":9,"totalTokens":121,"cacheReadInputTokens":100,"cacheWriteInputTokens":0},"metrics":{"latencyMs":42}}"#)
        for piece in stride(from: 0, to: stream.count, by: 7).map({ stream[$0..<min($0 + 7, stream.count)] }) { meter.observe(piece) }
        #expect(meter.textCharacters == 11)
        let (usage, source) = meter.result(estimatedInputTokens: 5)
        #expect(source == .provider)
        #expect(usage == Usage(inputTokens: 112, outputTokens: 9, cachedInputTokens: 100, cacheWriteTokens: 0))
    }

    @Test("InvokeModel stream on Claude: model from message_start, final counts from the invocation metrics")
    func invokeStream() {
        var meter = BedrockStreamMeter()
        meter.observe(EventStreamFrame.chunk(#"{"type":"message_start","message":{"model":"claude-3-5-sonnet-20241022","usage":{"input_tokens":12,"output_tokens":1}}}"#))
        meter.observe(EventStreamFrame.chunk(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#))
        // Cut here: what was seen, the output estimated from the text.
        #expect(meter.model == "claude-3-5-sonnet-20241022")
        #expect(meter.result(estimatedInputTokens: 50) == (Usage(inputTokens: 12, outputTokens: 2), .estimated))
        meter.observe(EventStreamFrame.chunk(#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}"#))
        meter.observe(EventStreamFrame.chunk(#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":12,"outputTokenCount":9,"invocationLatency":310,"firstByteLatency":120}}"#))
        #expect(meter.result(estimatedInputTokens: 50) == (Usage(inputTokens: 12, outputTokens: 9), .provider))
    }

    @Test("An exception message is noted; nothing after a broken frame is metered")
    func exceptionAndBrokenStream() {
        var meter = BedrockStreamMeter()
        meter.observe(EventStreamFrame.make([(":message-type", "exception"), (":exception-type", "throttlingException")], payload: Array("{}".utf8)))
        #expect(meter.exception == "throttlingException")
        var broken = EventStreamFrame.event("metadata", #"{"usage":{"inputTokens":1,"outputTokens":1}}"#)
        broken[3] ^= 0x10
        var cut = BedrockStreamMeter()
        cut.observe(broken)
        #expect(cut.failure != nil && !cut.usageComplete)
    }

    @Test("Routes: the four actions and CountTokens, the model id decoded from the path")
    func routes() {
        let wire = ProviderFormat.bedrock.wire
        #expect(wire.endpoint(forPath: "/model/m/converse") == .chat)
        #expect(wire.endpoint(forPath: "/model/m/converse-stream") == .chat)
        #expect(wire.endpoint(forPath: "/model/m/invoke") == .messages)
        #expect(wire.endpoint(forPath: "/model/m/invoke-with-response-stream") == .messages)
        #expect(wire.endpoint(forPath: "/model/m/count-tokens") == .other)
        #expect(wire.endpoint(forPath: "/model/converse") == .other)
        #expect(wire.isFree(["model", "m", "count-tokens"]))
        #expect(!wire.isFree(["async-invoke"]))
        #expect(wire.model(inPath: "/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse") == "us.anthropic.claude-3-7-sonnet-20250219-v1:0")
        #expect(
            wire.model(inPath: "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke")
                == "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0")
    }

    @Test("Answers: Converse usage, Claude's usage on InvokeModel, and the token-count headers for other models")
    func answers() {
        let converse = UsageParser.parse(
            body: Array(#"{"output":{"message":{"role":"assistant","content":[{"text":"Hi"}]}},"stopReason":"end_turn","usage":{"inputTokens":30,"outputTokens":7,"totalTokens":37}}"#.utf8),
            format: .bedrock, endpoint: .chat)
        #expect(converse.usage == Usage(inputTokens: 30, outputTokens: 7))
        let claude = UsageParser.parse(
            body: Array(#"{"id":"msg_bdrk_1","model":"claude-3-5-sonnet-20241022","content":[{"type":"text","text":"Hi"}],"usage":{"input_tokens":20,"cache_read_input_tokens":5,"output_tokens":3}}"#.utf8),
            format: .bedrock, endpoint: .messages)
        #expect(claude.model == "claude-3-5-sonnet-20241022")
        #expect(claude.usage == Usage(inputTokens: 25, outputTokens: 3, cachedInputTokens: 5))
        let headers = [("x-amzn-bedrock-input-token-count", "17"), ("x-amzn-bedrock-output-token-count", "4")]
        #expect(ProviderFormat.bedrock.wire.headerUsage(headers) == Usage(inputTokens: 17, outputTokens: 4))
        #expect(ProviderFormat.anthropic.wire.headerUsage(headers) == nil)
    }

    @Test("Requests: the stream flag comes from the path, the output cap from inferenceConfig.maxTokens")
    func requests() throws {
        let body = Array(#"{"messages":[{"role":"user","content":[{"text":"Hello there, model"}]}],"inferenceConfig":{"maxTokens":256},"stream":false}"#.utf8)
        let streamed = try RequestInspector.inspect(body, format: .bedrock, endpoint: .chat, path: "/model/amazon.nova-lite-v1%3A0/converse-stream")
        #expect(streamed.stream)
        #expect(streamed.maxOutputTokens == 256)
        #expect(streamed.model == "amazon.nova-lite-v1:0")
        let whole = try RequestInspector.inspect(
            Array(#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":64,"stream":true,"messages":[]}"#.utf8), format: .bedrock,
            endpoint: .messages, path: "/model/m/invoke")
        #expect(!whole.stream)
        #expect(whole.maxOutputTokens == 64)
    }

    @Test("boto3's SigV4 Authorization header: the access key id is the client's token")
    func clientTokenFromSignature() {
        let header = "AWS4-HMAC-SHA256 Credential=tg_abc123/20261206/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
        #expect(ClientToken { $0 == "authorization" ? header : nil } == ClientToken(value: "tg_abc123", source: .authorization))
        #expect(ClientToken { $0 == "authorization" ? "AWS4-HMAC-SHA256 Credential=/x" : nil } == nil)
    }

    @Test("Tollgate's errors: the exception name boto3 raises in x-amzn-errortype, Tollgate's code in the body")
    func errors() {
        let error = RequestError(.budgetExceeded, "Budget spent.")
        #expect(ErrorRenderer.body(error, format: .bedrock) == #"{"message":"Budget spent.","code":"budget_exceeded"}"#)
        let headers = ErrorRenderer.headers(error, format: .bedrock)
        #expect(headers.contains { $0 == ("x-amzn-errortype", "ServiceQuotaExceededException") })
        #expect(headers.contains { $0 == ("x-should-retry", "false") })
        #expect(ErrorRenderer.headers(RequestError(.rateLimitExceeded, "", retryAfter: 2), format: .bedrock).contains { $0 == ("x-amzn-errortype", "ThrottlingException") })
    }
}
