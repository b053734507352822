import Synchronization

/// AWS Signature Version 4 (SigV4) for requests Tollgate sends to AWS Bedrock (SPEC §14), with
/// OpenSSL's SHA-256 and HMAC-SHA256 (`Digest`).
///
/// Signs the headers AWS requires and nothing the client could change on the way: `host`,
/// `x-amz-date` and, with temporary credentials, `x-amz-security-token`. Every other header
/// goes unsigned, as AWS allows. The canonical request follows AWS's rules for every service
/// but S3: the path as sent, URI-encoded once more (`%3A` in a model id becomes `%253A`), the
/// query's parameters decoded, re-encoded and sorted, and the body's SHA-256.
///
/// Written here rather than taken from a library: the only Swift SigV4 signers come with the AWS
/// SDK or Soto, each bringing its own HTTP stack; this is one page on top of OpenSSL.
package final class AWSSigner: Sendable {
    package struct Credentials: Sendable, Equatable, Codable {
        package var accessKeyID: String
        package var secretAccessKey: String
        /// STS temporary credentials' session token, sent as `x-amz-security-token`.
        package var sessionToken: String?

        package init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }

        enum CodingKeys: String, CodingKey {
            case accessKeyID = "access_key_id", secretAccessKey = "secret_access_key", sessionToken = "session_token"
        }
    }

    /// The headers a signature replaces: the client's own signature and the values it signed.
    package static let replacedHeaders: Set<String> = ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "host"]

    package let credentials: Credentials
    package let region: String
    package let service: String
    /// The signing key of the last day signed for (`yyyyMMdd`): four HMACs saved per request.
    private let dayKey = Mutex<(day: String, key: [UInt8])?>(nil)

    package init(credentials: Credentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers that sign a request for `url` with `body` at `nowMs`: `host`, `x-amz-date`,
    /// `x-amz-security-token` (with a session token) and `authorization`. The request must be
    /// sent with exactly this `host` (a custom Host header overrides libcurl's).
    ///
    /// Built as UTF-8 bytes throughout: `String` and `Character` handling cost more CPU than the
    /// hashing did (about 17 µs of 19 per request, measured with bench/signing.sh).
    package func sign(method: String, url: String, body: some Collection<UInt8>, nowMs: Int64) -> [(name: String, value: String)] {
        let target = Self.split(Array(url.utf8))
        let date = Self.amzDate(nowMs: nowMs)
        let day = String(decoding: date.prefix(8), as: UTF8.self)
        let amzDate = String(decoding: date, as: UTF8.self)
        var signed: [(name: String, value: String)] = [("host", target.host), ("x-amz-date", amzDate)]
        if let token = credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
        let signedNames = credentials.sessionToken == nil ? "host;x-amz-date" : "host;x-amz-date;x-amz-security-token"

        var canonical: [UInt8] = []
        canonical.reserveCapacity(256 + target.path.count * 2 + target.query.count * 2)
        for byte in method.utf8 { canonical.append(byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte) }
        canonical.append(Self.newline)
        Self.encode(target.path, keepSlash: true, into: &canonical)
        canonical.append(Self.newline)
        Self.canonicalQuery(target.query, into: &canonical)
        canonical.append(Self.newline)
        for (name, value) in signed {
            canonical += name.utf8
            canonical.append(UInt8(ascii: ":"))
            canonical += value.utf8
            canonical.append(Self.newline)
        }
        canonical.append(Self.newline)
        canonical += signedNames.utf8
        canonical.append(Self.newline)
        Self.appendHex(Digest.sha256(body), to: &canonical)

        let scope = day + "/" + region + "/" + service + "/aws4_request"
        var stringToSign: [UInt8] = Array("AWS4-HMAC-SHA256\n".utf8)
        stringToSign.reserveCapacity(160)
        stringToSign += date
        stringToSign.append(Self.newline)
        stringToSign += scope.utf8
        stringToSign.append(Self.newline)
        Self.appendHex(Digest.sha256(canonical), to: &stringToSign)
        let signature = Digest.hex(Digest.hmacSHA256(key: signingKey(day: day), message: stringToSign))
        signed.append((
            "authorization",
            "AWS4-HMAC-SHA256 Credential=" + credentials.accessKeyID + "/" + scope + ", SignedHeaders=" + signedNames
                + ", Signature=" + signature
        ))
        return signed
    }

    private func signingKey(day: String) -> [UInt8] {
        if let cached = dayKey.withLock({ $0 }), cached.day == day { return cached.key }
        let date = Digest.hmacSHA256(key: Array(("AWS4" + credentials.secretAccessKey).utf8), message: day.utf8)
        let region = Digest.hmacSHA256(key: date, message: self.region.utf8)
        let service = Digest.hmacSHA256(key: region, message: self.service.utf8)
        let key = Digest.hmacSHA256(key: service, message: "aws4_request".utf8)
        dayKey.withLock { $0 = (day, key) }
        return key
    }

    // MARK: Canonical forms

    private static let newline = UInt8(ascii: "\n")

    /// `scheme://authority/path?query` split into the Host header's value, the path and the query.
    static func split(_ url: [UInt8]) -> (host: String, path: ArraySlice<UInt8>, query: ArraySlice<UInt8>) {
        var start = 0
        if let colon = url.firstIndex(of: UInt8(ascii: ":")), url[colon...].starts(with: "://".utf8) { start = colon + 3 }
        let authorityEnd = url[start...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? url.endIndex
        var host = url[start..<authorityEnd]
        if let at = host.lastIndex(of: UInt8(ascii: "@")) { host = host[(at + 1)...] }
        // libcurl leaves a scheme's default port out of the Host header; so does the signature.
        if url.starts(with: "https://".utf8), host.reversed().starts(with: "344:".utf8) { host = host.dropLast(4) }
        if url.starts(with: "http://".utf8), host.reversed().starts(with: "08:".utf8) { host = host.dropLast(3) }
        let rest = url[authorityEnd...]
        let queryStart = rest.firstIndex(of: UInt8(ascii: "?"))
        let path = queryStart.map { rest[..<$0] } ?? rest
        let query = queryStart.map { rest[($0 + 1)...] } ?? []
        return (String(decoding: host, as: UTF8.self), path.isEmpty ? ArraySlice("/".utf8) : path, query)
    }

    /// Parameters decoded, encoded the one way AWS does, sorted by name then value.
    static func canonicalQuery(_ query: ArraySlice<UInt8>, into out: inout [UInt8]) {
        guard !query.isEmpty else { return }
        var pairs: [(name: [UInt8], value: [UInt8])] = []
        for parameter in query.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = parameter.firstIndex(of: UInt8(ascii: "="))
            var name: [UInt8] = []
            var value: [UInt8] = []
            encode(decode(equals.map { parameter[..<$0] } ?? parameter), keepSlash: false, into: &name)
            encode(decode(equals.map { parameter[($0 + 1)...] } ?? []), keepSlash: false, into: &value)
            pairs.append((name, value))
        }
        pairs.sort { $0.name != $1.name ? $0.name.lexicographicallyPrecedes($1.name) : $0.value.lexicographicallyPrecedes($1.value) }
        for (index, pair) in pairs.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "&")) }
            out += pair.name
            out.append(UInt8(ascii: "="))
            out += pair.value
        }
    }

    /// RFC 3986 encoding as SigV4 wants it: unreserved bytes as they are, every other byte `%XX`
    /// in upper-case hex. On a path (as sent, so already encoded once) this is the second
    /// encoding every service but S3 signs.
    static func encode(_ bytes: some Sequence<UInt8>, keepSlash: Bool, into out: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), upperHex[Int(byte >> 4)], upperHex[Int(byte & 0x0F)]]
            }
        }
    }

    private static let upperHex = Array("0123456789ABCDEF".utf8)
    private static let lowerHex = Array("0123456789abcdef".utf8)

    private static func appendHex(_ bytes: [UInt8], to out: inout [UInt8]) {
        for byte in bytes {
            out.append(lowerHex[Int(byte >> 4)])
            out.append(lowerHex[Int(byte & 0x0F)])
        }
    }

    /// `%XX` sequences decoded (`+` stays a plus, as AWS reads it); a malformed escape is kept.
    static func decode(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let bytes = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `yyyyMMddTHHmmssZ` in UTC as bytes (no formatter per request).
    static func amzDate(nowMs: Int64) -> [UInt8] {
        let seconds = nowMs >= 0 ? nowMs / 1000 : (nowMs - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = BudgetPeriod.civil(fromDays: days)
        var out: [UInt8] = []
        out.reserveCapacity(16)
        func digits(_ n: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(n / divisor % 10))
                divisor /= 10
            }
        }
        digits(year, 4)
        digits(month, 2)
        digits(day, 2)
        out.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2)
        digits(secondOfDay % 3600 / 60, 2)
        digits(secondOfDay % 60, 2)
        out.append(UInt8(ascii: "Z"))
        return out
    }
}
