import Hummingbird
import NIOCore
import TollgateCore

/// JSON answers of the admin API: snake_case fields, errors as `{"error":{"message","code"}}`.
enum AdminResponse {
    static func json(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
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

/// Builds a JSON object by appending members in order; money goes in as exact decimal numbers,
/// never through Double. The members stay readable, so a terminal table can show the same figures.
package struct JSONObject: Sendable {
    /// Each member's name and its value as JSON text.
    package private(set) var members: [(name: String, json: String)] = []
    /// The objects of each list member added with `add(_:objects:)`, so a terminal table can show
    /// their members as they are (exact money) without parsing the JSON back.
    package private(set) var lists: [String: [JSONObject]] = [:]

    package init() {}

    mutating func add(_ name: String, _ value: Int64) { members.append((name, String(value))) }
    mutating func add(_ name: String, _ value: Int) { members.append((name, String(value))) }
    mutating func add(_ name: String, _ value: Bool) { members.append((name, value ? "true" : "false")) }
    mutating func add(_ name: String, _ value: String?) { members.append((name, value.map(JSONText.quoted) ?? "null")) }
    mutating func add(_ name: String, _ value: Int?) { members.append((name, value.map { String($0) } ?? "null")) }
    mutating func add(_ name: String, _ values: [String]) {
        members.append((name, "[" + values.map(JSONText.quoted).joined(separator: ",") + "]"))
    }
    mutating func add(_ name: String, _ object: JSONObject) { members.append((name, object.string)) }
    mutating func addNull(_ name: String) { members.append((name, "null")) }
    /// A value already rendered as JSON.
    package mutating func addRaw(_ name: String, _ json: String) { members.append((name, json)) }
    mutating func add(_ name: String, usd nanos: Int64) { members.append((name, Money.decimalString(nanos))) }
    /// Basis points as an exact decimal fraction: 5000 → 0.5, 12500 → 1.25.
    mutating func add(_ name: String, fraction basisPoints: Int64) {
        members.append((name, Money.decimalString(basisPoints * 100_000)))
    }
    /// Parts per million as an exact decimal percentage: 200 000 → 20.
    mutating func add(_ name: String, percent partsPerMillion: Int64) {
        members.append((name, Money.decimalString(partsPerMillion * 100_000)))
    }
    /// A list of already-rendered objects.
    mutating func add(_ name: String, objects: [JSONObject]) {
        var json = "["
        for (index, object) in objects.enumerated() {
            if index > 0 { json += "," }
            object.write(to: &json)
        }
        json += "]"
        members.append((name, json))
        lists[name] = objects
    }
    /// A ratio or a latency, rounded to `digits` decimals.
    mutating func add(_ name: String, _ value: Double, digits: Int = 3) {
        guard value.isFinite else { members.append((name, "0")); return }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        members.append((name, rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)))
    }

    package var string: String {
        var out = ""
        out.reserveCapacity(members.reduce(2) { $0 + $1.name.utf8.count + $1.json.utf8.count + 4 })
        write(to: &out)
        return out
    }

    /// Appends the object's JSON text to `out`.
    func write(to out: inout String) {
        out += "{"
        for (index, member) in members.enumerated() {
            if index > 0 { out += "," }
            JSONText.append(member.name, to: &out)
            out += ":"
            out += member.json
        }
        out += "}"
    }
}
