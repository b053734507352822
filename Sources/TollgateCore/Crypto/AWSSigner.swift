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
    package func sign(method: String, url: String, body: some Collection<UInt8>, nowMs: Int64) -> [(name: String, value: String)] {
        let target = Self.split(url)
        let (day, time) = Self.amzDate(nowMs: nowMs)
        let amzDate = day + "T" + time + "Z"
        var signed: [(name: String, value: String)] = [("host", target.host), ("x-amz-date", amzDate)]
        if let token = credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
        let signedNames = signed.map(\.name).joined(separator: ";")
        var canonical = method.uppercased() + "\n"
        canonical += Self.canonicalURI(target.path) + "\n"
        canonical += Self.canonicalQuery(target.query) + "\n"
        for (name, value) in signed { canonical += name + ":" + value.trimmingSpaces() + "\n" }
        canonical += "\n" + signedNames + "\n"
        canonical += Digest.hex(Digest.sha256(body))
        let scope = day + "/" + region + "/" + service + "/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + Digest.hex(Digest.sha256(canonical.utf8))
        let signature = Digest.hex(Digest.hmacSHA256(key: signingKey(day: day), message: stringToSign.utf8))
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

    /// `scheme://authority/path?query` split into the Host header's value, the path and the query.
    static func split(_ url: String) -> (host: String, path: Substring, query: Substring) {
        let afterScheme = url.range(of: "://").map { url[$0.upperBound...] } ?? url[...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
        var host = afterScheme[..<authorityEnd]
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        // libcurl leaves a scheme's default port out of the Host header; so does the signature.
        if url.hasPrefix("https://"), host.hasSuffix(":443") { host = host.dropLast(4) }
        if url.hasPrefix("http://"), host.hasSuffix(":80") { host = host.dropLast(3) }
        let rest = afterScheme[authorityEnd...]
        let queryStart = rest.firstIndex(of: "?")
        let path = queryStart.map { rest[..<$0] } ?? rest
        let query = queryStart.map { rest[rest.index(after: $0)...] } ?? ""
        return (String(host), path.isEmpty ? "/" : path, query)
    }

    /// The path as sent, URI-encoded again (every service but S3 signs the path encoded twice).
    static func canonicalURI(_ path: Substring) -> String {
        encode(path.utf8, keepSlash: true)
    }

    /// Parameters decoded, encoded the one way AWS does, sorted by name then value.
    static func canonicalQuery(_ query: Substring) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for parameter in query.split(separator: "&", omittingEmptySubsequences: true) {
            let equals = parameter.firstIndex(of: "=")
            let name = equals.map { parameter[..<$0] } ?? parameter
            let value = equals.map { parameter[parameter.index(after: $0)...] } ?? ""
            pairs.append((encode(decode(name), keepSlash: false), encode(decode(value), keepSlash: false)))
        }
        pairs.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        return pairs.map { $0.0 + "=" + $0.1 }.joined(separator: "&")
    }

    /// RFC 3986 encoding as SigV4 wants it: unreserved bytes as they are, every other byte `%XX`
    /// in upper-case hex.
    static func encode(_ bytes: some Sequence<UInt8>, keepSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `%XX` sequences decoded (`+` stays a plus, as AWS reads it); a malformed escape is kept.
    static func decode(_ text: Substring) -> [UInt8] {
        let bytes = Array(text.utf8)
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

    /// `yyyyMMdd` and `HHmmss` in UTC (Howard Hinnant's days-to-civil; no Foundation formatter
    /// per request).
    static func amzDate(nowMs: Int64) -> (day: String, time: String) {
        let seconds = nowMs >= 0 ? nowMs / 1000 : (nowMs - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return (
            "\(year)" + two(month) + two(day),
            two(secondOfDay / 3600) + two(secondOfDay % 3600 / 60) + two(secondOfDay % 60)
        )
    }
}
