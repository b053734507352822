/// Reads the `X-Tollgate-*` request headers that refine attribution (SPEC §3).
package struct AttributionHeaders: Sendable, Equatable {
    /// At most this many `X-Tollgate-Tag-*` headers per request.
    package static let maxTags = 10
    /// Default cap on an attribution value (org, user, session, tag), in UTF-8 bytes
    /// (`limits.max_attribution_length`): every value is stored with each event and becomes a
    /// rollup dimension, so one client must not be able to write kilobytes per request.
    package static let defaultMaxLength = 256
    /// Longest tag name (after `X-Tollgate-Tag-`).
    package static let maxTagNameLength = 64

    package var org: String?
    package var user: String?
    package var session: String?
    /// `X-Tollgate-Team` and `X-Tollgate-Department`: for passthrough traffic only (a Tollgate
    /// key's own team and department decide, so a header cannot move spend between budgets).
    package var team: String?
    package var department: String?
    package var tags: [String: String] = [:]

    package init() {}

    /// Parses `(name, value)` pairs (names in any case); throws for a bad org slug, too many
    /// tags, or a value longer than `maxLength` bytes.
    package init(
        headers: some Sequence<(name: String, value: String)>, maxLength: Int = defaultMaxLength
    ) throws(RequestError) {
        func bounded(_ value: String, _ header: String) throws(RequestError) -> String {
            guard value.utf8.count <= maxLength else {
                throw .invalidRequest("\(header) is \(value.utf8.count) bytes; at most \(maxLength) are allowed (limits.max_attribution_length).")
            }
            return value
        }
        for (rawName, value) in headers {
            // Most headers are not ours: compare bytes before lowercasing (an allocation) the name.
            guard rawName.utf8.count > 11,
                rawName.utf8.prefix(11).elementsEqual("x-tollgate-".utf8, by: { $0 | 0x20 == $1 | 0x20 })
            else { continue }
            let name = rawName.lowercased()
            let suffix = name.dropFirst("x-tollgate-".count)
            switch suffix {
            case "org":
                let org = try bounded(value.trimmingSpaces(), "X-Tollgate-Org")
                guard Self.isSlug(org) else {
                    throw .invalidRequest(
                        "X-Tollgate-Org must be a slug ([a-z0-9][a-z0-9_-]*), got '\(org)'.")
                }
                self.org = org
            case "user": self.user = try bounded(value.trimmingSpaces(), "X-Tollgate-User")
            case "session": self.session = try bounded(value.trimmingSpaces(), "X-Tollgate-Session")
            case "team": self.team = try Self.nonEmpty(bounded(value.trimmingSpaces(), "X-Tollgate-Team"))
            case "department": self.department = try Self.nonEmpty(bounded(value.trimmingSpaces(), "X-Tollgate-Department"))
            default:
                if suffix.hasPrefix("tag-"), suffix.count > 4 {
                    let tag = String(suffix.dropFirst(4))
                    guard TagName.isValid(tag) else {
                        throw .invalidRequest("Tag names (X-Tollgate-Tag-<Name>) must be \(TagName.rule); got '\(tag.prefix(TagName.maxLength))'.")
                    }
                    tags[tag] = try bounded(value.trimmingSpaces(), "X-Tollgate-Tag-\(tag)")
                    if tags.count > Self.maxTags {
                        throw .invalidRequest(
                            "At most \(Self.maxTags) X-Tollgate-Tag-* headers are allowed per request.")
                    }
                }
            }
        }
    }

    private static func nonEmpty(_ value: String) -> String? { value.isEmpty ? nil : value }

    /// Org ids are slugs: `[a-z0-9][a-z0-9_-]*`.
    package static func isSlug(_ value: String) -> Bool {
        guard let first = value.utf8.first, isLowerAlnum(first) else { return false }
        return value.utf8.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    private static func isLowerAlnum(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }
}
