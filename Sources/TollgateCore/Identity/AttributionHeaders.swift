/// Reads the `X-Tollgate-*` request headers that refine attribution (SPEC §3).
package struct AttributionHeaders: Sendable, Equatable {
    /// At most this many `X-Tollgate-Tag-*` headers per request.
    package static let maxTags = 10

    package var org: String?
    package var user: String?
    package var session: String?
    package var tags: [String: String] = [:]

    package init() {}

    /// Parses `(name, value)` pairs (names in any case); throws for a bad org slug or too many tags.
    package init(headers: some Sequence<(name: String, value: String)>) throws(RequestError) {
        for (rawName, value) in headers {
            // Most headers are not ours: compare bytes before lowercasing (an allocation) the name.
            guard rawName.utf8.count > 11,
                rawName.utf8.prefix(11).elementsEqual("x-tollgate-".utf8, by: { $0 | 0x20 == $1 | 0x20 })
            else { continue }
            let name = rawName.lowercased()
            let suffix = name.dropFirst("x-tollgate-".count)
            switch suffix {
            case "org":
                let org = value.trimmingSpaces()
                guard Self.isSlug(org) else {
                    throw .invalidRequest(
                        "X-Tollgate-Org must be a slug ([a-z0-9][a-z0-9_-]*), got '\(org)'.")
                }
                self.org = org
            case "user": self.user = value.trimmingSpaces()
            case "session": self.session = value.trimmingSpaces()
            default:
                if suffix.hasPrefix("tag-"), suffix.count > 4 {
                    tags[String(suffix.dropFirst(4))] = value.trimmingSpaces()
                    if tags.count > Self.maxTags {
                        throw .invalidRequest(
                            "At most \(Self.maxTags) X-Tollgate-Tag-* headers are allowed per request.")
                    }
                }
            }
        }
    }

    /// Org ids are slugs: `[a-z0-9][a-z0-9_-]*`.
    package static func isSlug(_ value: String) -> Bool {
        guard let first = value.utf8.first, isLowerAlnum(first) else { return false }
        return value.utf8.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    private static func isLowerAlnum(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }
}
