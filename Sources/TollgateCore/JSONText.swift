/// Writes JSON string literals by hand, for the few places that build JSON text directly
/// (error bodies, admin answers, stored tags) where an encoder would add a Foundation round trip.
package enum JSONText {
    /// `value` as a JSON string literal, escaped per RFC 8259.
    package static func quoted(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count + 2)
        append(value, to: &out)
        return out
    }

    /// Appends `value` as a JSON string literal.
    package static func append(_ value: String, to out: inout String) {
        out += "\""
        // Most values (names, ids, models) need no escape: appended whole, not scalar by scalar.
        guard value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            out += value
            out += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension JSONText {
    /// The members of the JSON object `json`, in order: each name (escapes kept as written) and
    /// its value's JSON text. Empty if `json` is not an object.
    package static func members(of json: String) -> [(name: String, json: String)] {
        var members: [(name: String, json: String)] = []
        var text = json
        text.withUTF8 { bytes in
            JSONScanner.forEachMember(of: bytes) { name, value in
                members.append((String(decoding: name, as: UTF8.self), String(decoding: UnsafeBufferPointer(rebasing: bytes[value]), as: UTF8.self)))
                return true
            }
        }
        return members
    }
}

/// A value that JSON writes as a number from its own exact text, never through a binary float or
/// `Decimal` (`AdminJSON`'s encoder writes it as is; `JSONEncoder` goes through `encode(to:)`).
package protocol JSONNumberText {
    /// Valid JSON number text.
    var jsonNumberText: String { get }
}
