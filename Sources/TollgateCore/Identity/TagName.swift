/// The rule for tag names, the `<name>` of `X-Tollgate-Tag-<Name>` headers and of the admin API's
/// `tag.<name>` filters and breakdowns (SPEC §3, §9): after lower-casing, a slug of at most 64
/// characters, `[a-z0-9][a-z0-9_-]*`. One rule for both sides, so every tag that can be queried
/// could have been recorded, and a query never carries quotes or other SQL-significant characters.
package enum TagName {
    package static let maxLength = AttributionHeaders.maxTagNameLength

    /// Whether `name` (already lower-cased) is a valid tag name.
    package static func isValid(_ name: some StringProtocol) -> Bool {
        name.utf8.count <= maxLength && AttributionHeaders.isSlug(String(name))
    }

    /// What a valid name looks like, for error messages.
    package static let rule = "lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 64 characters"
}
