/// Reading back the members of an admin API answer, so the dashboard shows exactly the text the
/// API sends: money stays the API's exact decimal string.
extension JSONObject {
    /// A member's JSON text (a number as written, a string still quoted); nil if absent or null.
    func raw(_ name: String) -> String? {
        guard let json = members.first(where: { $0.name == name })?.json, json != "null" else { return nil }
        return json
    }

    /// A member as display text: a string decoded, a number or bool as written; nil if absent or null.
    func text(_ name: String) -> String? {
        guard let json = raw(name) else { return nil }
        return json.hasPrefix("\"") ? Self.unquoted(json) : json
    }

    /// The objects of a list member (`data` of a list answer).
    func objects(_ name: String) -> [JSONObject] { lists[name] ?? [] }

    /// The inverse of `JSONText.quoted`: a JSON string literal's value.
    static func unquoted(_ literal: String) -> String {
        var out = ""
        var scalars = literal.unicodeScalars.dropFirst().dropLast()[...]
        while let scalar = scalars.popFirst() {
            guard scalar == "\\", let escaped = scalars.popFirst() else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch escaped {
            case "n": out += "\n"
            case "r": out += "\r"
            case "t": out += "\t"
            case "b": out += "\u{8}"
            case "f": out += "\u{C}"
            case "u":
                let hex = String(String.UnicodeScalarView(scalars.prefix(4)))
                scalars = scalars.dropFirst(4)
                if let code = UInt32(hex, radix: 16), let decoded = Unicode.Scalar(code) { out.unicodeScalars.append(decoded) }
            default: out.unicodeScalars.append(escaped)
            }
        }
        return out
    }
}

