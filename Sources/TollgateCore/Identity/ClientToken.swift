/// The token a client presented, read the way each SDK sends it (SPEC §3).
package struct ClientToken: Sendable, Equatable {
    /// The header that carried it; a credential swap removes it.
    package enum Source: String, Sendable {
        case authorization = "authorization"
        case xAPIKey = "x-api-key"
        case xGoogAPIKey = "x-goog-api-key"
    }

    package var value: String
    package var source: Source

    /// Tollgate's own keys start with `tg_`; any other token is passed through.
    package var isTollgateKey: Bool { value.hasPrefix("tg_") }

    /// The key id passthrough traffic is attributed to: `pt_` + the first 16 hex digits of the
    /// token's SHA-256, so the same provider key always lands on the same id and is never stored.
    package var passthroughKeyID: String {
        "pt_" + Digest.hex(Digest.sha256(value.utf8).prefix(8))
    }

    package init(value: String, source: Source) {
        self.value = value
        self.source = source
    }

    /// Reads the token from request headers (names lower-cased), in the order the SDKs use them.
    package init?(header: (String) -> String?) {
        if let auth = header("authorization") {
            let parts = auth.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let token = parts[1].trimmingSpaces()
                if !token.isEmpty { self.init(value: token, source: .authorization); return }
            }
        }
        if let key = header("x-api-key")?.trimmingSpaces(), !key.isEmpty {
            self.init(value: key, source: .xAPIKey)
            return
        }
        if let key = header("x-goog-api-key")?.trimmingSpaces(), !key.isEmpty {
            self.init(value: key, source: .xGoogAPIKey)
            return
        }
        return nil
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs (Foundation-free).
    package func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return String(self[first...last])
    }
}
