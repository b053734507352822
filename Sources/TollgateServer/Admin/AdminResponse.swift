import Hummingbird
import NIOCore
import TollgateCore

/// JSON answers of the admin API: snake_case fields, errors as `{"error":{"message","code"}}`.
enum AdminResponse {
    static func json(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// A typed answer, written by `AdminJSON`.
    static func json(_ answer: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        json(AdminJSON.string(answer), status: status)
    }

    static func error(_ error: AdminError) -> Response {
        var response = self.error(HTTPResponse.Status(code: error.status.rawValue), code: error.code, error.message)
        if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    static func error(_ status: HTTPResponse.Status, code: String, _ message: String) -> Response {
        json(#"{"error":{"message":\#(JSONText.quoted(message)),"code":\#(JSONText.quoted(code))}}"#, status: status)
    }
}
