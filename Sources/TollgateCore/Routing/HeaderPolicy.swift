/// Which headers cross the proxy, in each direction (SPEC §2).
///
/// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection and never cross a proxy, nor do
/// the headers named in `Connection`. Framing headers (`Content-Length`, `Transfer-Encoding`) are
/// recomputed by each side, `Host` comes from the upstream URL, and `X-Tollgate-*` are Tollgate's
/// own instructions, stripped before the provider sees the request.
package enum HeaderPolicy {
    private static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade",
    ]
    private static let recomputed: Set<String> = ["host", "content-length", "expect"]

    /// Whether a client request header (name lower-cased) is forwarded upstream.
    package static func forwardsRequestHeader(_ name: String, connectionTokens: Set<String>) -> Bool {
        if hopByHop.contains(name) || recomputed.contains(name) || connectionTokens.contains(name) { return false }
        return !name.hasPrefix("x-tollgate-")
    }

    /// Whether an upstream response header (name lower-cased) is passed to the client.
    /// `decodedBody` says the upstream body was decompressed on the way, so its encoding headers no longer apply.
    package static func forwardsResponseHeader(_ name: String, decodedBody: Bool) -> Bool {
        if hopByHop.contains(name) || name == "content-length" { return false }
        if decodedBody && name == "content-encoding" { return false }
        return true
    }

    /// The header names listed in a `Connection` header value, lower-cased.
    package static func connectionTokens(_ value: String?) -> Set<String> {
        guard let value else { return [] }
        return Set(value.split(separator: ",").map { $0.trimmingSpaces().lowercased() }.filter { !$0.isEmpty })
    }
}
