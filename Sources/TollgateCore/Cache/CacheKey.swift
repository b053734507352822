import Foundation

/// The response cache's key (SPEC §8): SHA-256 over the org, provider, endpoint, model and the
/// request body in canonical form — object keys sorted, no whitespace, numbers normalized — without
/// the fields that do not change the answer (`stream`, `stream_options`, `user`, `metadata`).
/// Streaming and non-streaming requests share a key, so either can answer the other.
package enum CacheKey {
    /// Top-level fields left out of the key.
    package static let ignoredFields: Set<String> = ["stream", "stream_options", "user", "metadata"]

    /// The hex key, or nil when the body is not a JSON object.
    package static func make(
        org: String, provider: String, endpoint: Endpoint, model: String, body: some Collection<UInt8>
    ) -> String? {
        canonicalBody(body).map { make(org: org, provider: provider, endpoint: endpoint, model: model, canonical: $0) }
    }

    /// The hex key for a body already in canonical form (`RequestInspection.canonicalBody`).
    package static func make(org: String, provider: String, endpoint: Endpoint, model: String, canonical: String) -> String {
        var text = "tollgate-cache-v1\n\(org)\n\(provider)\n\(endpoint.rawValue)\n\(model)\n"
        text += canonical
        return Digest.hex(Digest.sha256(text.utf8))
    }

    /// The canonical form of a JSON object body, without `ignoredFields`.
    package static func canonicalBody(_ body: some Collection<UInt8>) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        var out = ""
        write(object.filter { !ignoredFields.contains($0.key) }, into: &out)
        return out
    }

    private static func write(_ value: Any, into out: inout String) {
        switch value {
        case let object as [String: Any]:
            out += "{"
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                JSONText.append(key, to: &out)
                out += ":"
                write(object[key]!, into: &out)
            }
            out += "}"
        case let list as [Any]:
            out += "["
            for (index, element) in list.enumerated() {
                if index > 0 { out += "," }
                write(element, into: &out)
            }
            out += "]"
        case let text as String:
            JSONText.append(text, to: &out)
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" {
                out += number.boolValue ? "true" : "false"
            } else {
                // 1, 1.0 and 1e0 are one number: integral values print as integers, others in
                // Swift's shortest round-trip form.
                let double = number.doubleValue
                if double == double.rounded(), abs(double) < 1e15 { out += String(Int64(double)) } else { out += "\(double)" }
            }
        default:
            out += "null"
        }
    }
}
