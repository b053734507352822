import Foundation
import Testing
@testable import TollgateCore

@Suite("Request inspection: model, stream, caps, estimate, include_usage rewriting")
struct RequestInspectionTests {
    private func inspect(
        _ body: String, _ format: ProviderFormat = .openai, _ endpoint: Endpoint = .chat, path: Substring = "/v1/chat/completions"
    ) throws -> RequestInspection {
        try RequestInspector.inspect(Array(body.utf8), format: format, endpoint: endpoint, path: path)
    }

    private func upstream(_ body: String, _ endpoint: Endpoint = .chat) throws -> String? {
        try inspect(body, .openai, endpoint).upstreamBody.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("OpenAI chat: model, stream, user, output cap and a text-based input estimate")
    func openAIFields() throws {
        let body = """
            {"model":"gpt-4o","stream":false,"user":"alice","max_completion_tokens":256,"temperature":0.7,
             "messages":[{"role":"system","content":"You are terse."},{"role":"user","content":[
               {"type":"text","text":"Describe this picture."},
               {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"}}]}]}
            """
        let i = try inspect(body)
        #expect(i.model == "gpt-4o" && !i.stream && i.user == "alice" && i.maxOutputTokens == 256)
        // "You are terse." (14) + "Describe this picture." (22) = 36 bytes → 9 tokens; the image is not text.
        #expect(i.estimatedInputTokens == 9)
        #expect(i.upstreamBody == nil && !i.stripUsageChunk)
    }

    @Test("each provider's output cap field is read", arguments: [
        (#"{"max_tokens":100}"#, ProviderFormat.anthropic, Int?(100)), (#"{"max_output_tokens":300}"#, .openai, 300),
        (#"{"generationConfig":{"maxOutputTokens":400,"temperature":1}}"#, .gemini, 400), (#"{"model":"m"}"#, .openai, nil),
        (#"{"max_tokens":0}"#, .openai, nil),
    ])
    func outputCap(body: String, format: ProviderFormat, cap: Int?) throws {
        #expect(try inspect(body, format, .chat, path: "/v1beta/models/g:generateContent").maxOutputTokens == cap)
    }

    @Test("stream without include_usage: the member is added before the closing brace, every other byte kept")
    func addsStreamOptions() throws {
        let body = "{\"model\": \"gpt-4o\",\n \"stream\": true, \"temperature\": 0.70,\n \"messages\": [{\"role\": \"user\", \"content\": \"}\"}]}\n"
        let i = try inspect(body)
        #expect(i.stream && i.stripUsageChunk)
        let expected = "{\"model\": \"gpt-4o\",\n \"stream\": true, \"temperature\": 0.70,\n \"messages\": [{\"role\": \"user\", \"content\": \"}\"}],\"stream_options\":{\"include_usage\":true}}\n"
        #expect(String(decoding: try #require(i.upstreamBody), as: UTF8.self) == expected)
    }

    @Test("existing stream_options are completed, not replaced", arguments: [
        (#"{"stream":true,"stream_options":{}}"#, #"{"stream":true,"stream_options":{"include_usage":true}}"#),
        (#"{"stream":true,"stream_options":{ "x":1 }}"#, #"{"stream":true,"stream_options":{"include_usage":true, "x":1 }}"#),
        (#"{"stream":true,"stream_options":{"include_usage":false}}"#, #"{"stream":true,"stream_options":{"include_usage":true}}"#),
        (#"{"stream_options": {"include_usage": null, "y": 2}, "stream": true}"#, #"{"stream_options": {"include_usage": true, "y": 2}, "stream": true}"#),
        (#"{"stream":true,"stream_options":null}"#, #"{"stream":true,"stream_options":{"include_usage":true}}"#),
        (#"{"stream":true,"n":{"stream_options":{}}}"#, #"{"stream":true,"n":{"stream_options":{}},"stream_options":{"include_usage":true}}"#),
    ])
    func completesStreamOptions(body: String, expected: String) throws {
        let rewritten = try #require(try upstream(body))
        #expect(rewritten == expected)
        let options = try #require(try JSONSerialization.jsonObject(with: Data(rewritten.utf8)) as? [String: Any])["stream_options"]
        #expect((options as? [String: Any])?["include_usage"] as? Bool == true)
    }

    @Test("no rewrite when usage was asked for, the request does not stream, or the endpoint has no usage option")
    func noRewrite() throws {
        #expect(try upstream(#"{"stream":true,"stream_options":{"include_usage":true}}"#) == nil)
        #expect(try upstream(#"{"stream":false}"#) == nil)
        #expect(try upstream(#"{"model":"text-embedding-3-small","input":"x"}"#, .embedding) == nil)
        #expect(try upstream(#"{"model":"gpt-5","stream":true,"input":"x"}"#, .responses) == nil)
        #expect(try inspect(#"{"model":"claude-sonnet-4-5","stream":true,"max_tokens":9}"#, .anthropic, .messages).upstreamBody == nil)
        // Legacy completions take the same option.
        #expect(try upstream(#"{"model":"gpt-3.5-turbo-instruct","stream":true,"prompt":"x"}"#, .completion)
            == #"{"model":"gpt-3.5-turbo-instruct","stream":true,"prompt":"x","stream_options":{"include_usage":true}}"#)
    }

    @Test("Gemini: model and stream from the path, estimate from contents and system instruction")
    func gemini() throws {
        let body = """
            {"systemInstruction":{"parts":[{"text":"Be brief."}]},
             "contents":[{"role":"user","parts":[{"text":"Why is the sky blue?"},{"inlineData":{"mimeType":"image/jpeg","data":"AAAAAAAAAAAAAAAAAAAAAAAA"}}]}],
             "generationConfig":{"maxOutputTokens":1024}}
            """
        let i = try inspect(body, .gemini, .generate, path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent")
        #expect(i.model == "gemini-2.5-flash" && i.stream && i.maxOutputTokens == 1024)
        // "Be brief." (9) + "Why is the sky blue?" (20) = 29 bytes → 8 tokens.
        #expect(i.estimatedInputTokens == 8)
        #expect(try inspect("{}", .gemini, .generate, path: "/v1beta/models/gemini-2.5-pro:generateContent").stream == false)
        #expect(try inspect("{}", .gemini, .generate, path: "/v1/tunedModels/my-tune:generateContent").model == "my-tune")
    }

    @Test("pre-tokenized input counts one token per number")
    func tokenArrays() throws {
        #expect(try inspect(#"{"model":"text-embedding-3-small","input":[[1,2,3],[4,5]]}"#, .openai, .embedding).estimatedInputTokens == 5)
    }

    @Test("malformed bodies are refused with invalid_request and a message saying what is wrong", arguments: [
        ("{bad", "not valid JSON"), ("", "empty"), ("   \n", "empty"), ("[1,2]", "must be a JSON object"),
        ("\"text\"", "must be a JSON object"), ("{\"model\":\"gpt-4o\"", "not valid JSON"),
    ])
    func malformed(body: String, message: String) {
        #expect {
            try inspect(body)
        } throws: { error in
            guard let error = error as? RequestError else { return false }
            return error.code == .invalidRequest && error.status == 400 && error.message.contains(message)
        }
    }
}
