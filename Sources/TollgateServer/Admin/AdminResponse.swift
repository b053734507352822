import Hummingbird
import NIOCore
import TollgateCore

/// JSON answers of the admin API: snake_case fields, errors as `{"error":{"message","code"}}`.
enum AdminResponse {
    static func json(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func error(_ status: HTTPResponse.Status, code: String, _ message: String) -> Response {
        json(#"{"error":{"message":\#(ErrorRenderer.jsonString(message)),"code":\#(ErrorRenderer.jsonString(code))}}"#, status: status)
    }
}

/// Builds a JSON object by appending members; money goes in as exact decimal numbers, never through Double.
struct JSONObject {
    private var text = "{"
    private var first = true

    private mutating func key(_ name: String) {
        text += first ? "" : ","
        first = false
        text += ErrorRenderer.jsonString(name) + ":"
    }

    mutating func add(_ name: String, _ value: Int64) { key(name); text += String(value) }
    mutating func add(_ name: String, _ value: Int) { key(name); text += String(value) }
    mutating func add(_ name: String, _ value: Bool) { key(name); text += value ? "true" : "false" }
    mutating func add(_ name: String, _ value: String?) { key(name); text += value.map(ErrorRenderer.jsonString) ?? "null" }
    mutating func add(_ name: String, usd nanos: Int64) { key(name); text += Money.decimalString(nanos) }
    /// A ratio or a latency, rounded to `digits` decimals.
    mutating func add(_ name: String, _ value: Double, digits: Int = 3) {
        key(name)
        guard value.isFinite else { text += "0"; return }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        text += rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
    }
    mutating func addRaw(_ name: String, json: String) { key(name); text += json }

    var string: String { text + "}" }
}
