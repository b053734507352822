import Foundation
import Testing
@testable import TollgateCore

@Suite("Tollgate's own errors in each provider's shape")
struct ErrorRendererTests {
    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("OpenAI shape carries type and Tollgate's code; budget errors are insufficient_quota")
    func openAI() throws {
        let body = try json(ErrorRenderer.body(RequestError(.budgetExceeded, "Budget \"team\" spent"), format: .openai))
        let error = try #require(body["error"] as? [String: Any])
        #expect(error["code"] as? String == "budget_exceeded")
        #expect(error["type"] as? String == "insufficient_quota")
        #expect(error["message"] as? String == "Budget \"team\" spent")
    }

    @Test("Anthropic shape: type error with a typed inner error")
    func anthropic() throws {
        let body = try json(ErrorRenderer.body(RequestError(.rateLimitExceeded, "slow down", retryAfter: 3), format: .anthropic))
        #expect(body["type"] as? String == "error")
        let error = try #require(body["error"] as? [String: Any])
        #expect(error["type"] as? String == "rate_limit_error")
        #expect(error["code"] as? String == "rate_limit_exceeded")
        #expect(ErrorRenderer.headers(RequestError(.rateLimitExceeded, "", retryAfter: 3), format: .openai).contains { $0 == ("retry-after", "3") })
    }

    @Test("Gemini shape: numeric code, Google status and reason")
    func gemini() throws {
        let body = try json(ErrorRenderer.body(RequestError(.upstreamTimeout, "late\n"), format: .gemini))
        let error = try #require(body["error"] as? [String: Any])
        #expect(error["code"] as? Int == 504)
        #expect(error["status"] as? String == "DEADLINE_EXCEEDED")
        #expect(error["reason"] as? String == "upstream_timeout")
        #expect(error["message"] as? String == "late\n")
    }

    @Test("budget errors tell SDKs not to retry")
    func noRetry() {
        #expect(ErrorRenderer.headers(RequestError(.budgetExceeded, ""), format: .openai).contains { $0 == ("x-should-retry", "false") })
        #expect(RequestError(.budgetExceeded, "").status == 429)
        #expect(RequestError(.upstreamUnavailable, "").status == 502)
    }
}
