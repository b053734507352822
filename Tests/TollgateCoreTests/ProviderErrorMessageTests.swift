import Testing
import TollgateCore

@Suite("Provider error messages: what a failed answer says, bounded")
struct ProviderErrorMessageTests {
    @Test("each provider's error shape gives its message")
    func shapes() {
        let openAI = #"{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","code":"rate_limit_exceeded"}}"#
        let anthropic = #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
        let gemini = #"[{"error":{"code":400,"message":"API key not valid. \"Please\" pass a valid key.","status":"INVALID_ARGUMENT"}}]"#
        #expect(ProviderErrorMessage.from(Array(openAI.utf8)) == "Rate limit reached for gpt-4o")
        #expect(ProviderErrorMessage.from(Array(anthropic.utf8)) == "Overloaded")
        #expect(ProviderErrorMessage.from(Array(gemini.utf8)) == #"API key not valid. "Please" pass a valid key."#)
        #expect(ProviderErrorMessage.from(Array(#"{"error":"model not found"}"#.utf8)) == "model not found")
        // AWS (Bedrock): the message at the top level, the exception's name in a header.
        #expect(ProviderErrorMessage.from(Array(#"{"message":"Too many requests, please wait."}"#.utf8)) == "Too many requests, please wait.")
        #expect(ProviderErrorMessage.from(Array(#"{"Message":"User is not authorized"}"#.utf8)) == "User is not authorized")
    }

    @Test("anything else has no message, and a long one is cut")
    func others() {
        for body in ["", "upstream connect error", #"{"error":{"code":500}}"#, #"{"error":{"message":"   "}}"#, #"{"message":12}"#, "[", #"{"error":{"message":"unterminated"#] {
            #expect(ProviderErrorMessage.from(Array(body.utf8)) == nil, "\(body)")
        }
        let long = String(repeating: "é", count: 2000)
        let message = ProviderErrorMessage.from(Array(#"{"error":{"message":"\#(long)"}}"#.utf8))
        #expect(message?.count == ProviderErrorMessage.maxLength + 1)
    }
}
