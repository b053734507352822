/// The token a client presented, read the way each SDK sends it (SPEC §3).
package struct ClientToken: Sendable, Equatable {
    /// The header that carried it; a credential swap removes it.
    package enum Source: String, Sendable {
        case authorization = "authorization"
        case xAPIKey = "x-api-key"
        case xGoogAPIKey = "x-goog-api-key"
        /// Azure OpenAI's.
        case apiKey = "api-key"
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
            // `Bearer <token>`, the scheme in any case; read as bytes, as this runs per request.
            let bytes = auth.utf8
            if let space = bytes.firstIndex(of: UInt8(ascii: " ")),
                bytes[..<space].elementsEqual("bearer".utf8, by: { $0 | 0x20 == $1 })
            {
                let token = auth[bytes.index(after: space)...].trimmingSpaces()
                if !token.isEmpty { self.init(value: token, source: .authorization); return }
            }
            // boto3 signs with Signature V4: the access key id is the token (a Tollgate key there
            // makes Tollgate sign anew with its own credentials).
            if auth.hasPrefix("AWS4-HMAC-SHA256 "), let credential = auth.range(of: "Credential=") {
                let rest = auth[credential.upperBound...]
                let token = rest[..<(rest.firstIndex { $0 == "/" || $0 == "," || $0 == " " } ?? rest.endIndex)]
                if !token.isEmpty { self.init(value: String(token), source: .authorization); return }
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
        if let key = header("api-key")?.trimmingSpaces(), !key.isEmpty {
            self.init(value: key, source: .apiKey)
            return
        }
        return nil
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs (Foundation-free).
    package func trimmingSpaces() -> String {
        // Scanned as UTF-8 (spaces and tabs are single bytes): `Character` scanning is slow.
        var first: String.Index?
        var end = utf8.startIndex
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let next = utf8.index(after: index)
            if utf8[index] != UInt8(ascii: " "), utf8[index] != UInt8(ascii: "\t") {
                if first == nil { first = index }
                end = next
            }
            index = next
        }
        guard let first else { return "" }
        return String(self[first..<end])
    }
}
