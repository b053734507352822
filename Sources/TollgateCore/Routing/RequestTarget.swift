/// A client's request target, normalized once before routing and every policy (issue: hardening).
///
/// The path a policy sees must be the path the provider receives. libcurl squashes `/../`
/// and drops anything after `#`, and providers decode `%2F`; so a target that the policy and
/// the provider could read differently is either rewritten here into the one form both read,
/// or refused:
/// - runs of `/` collapse into one, and a trailing `/` is dropped (`/v1/chat/completions/` is
///   the chat endpoint, metered and policed as such);
/// - `.` and `..` segments, percent-encoded `/`, `\`, `.` or NUL, a raw `\` or `#`, and control
///   characters or spaces are refused: no SDK sends them, and each is a way to reach a path
///   other than the one checked, or to climb out of a base URL's path prefix.
package enum RequestTarget {
    /// `target` (path and optional query) with its path normalized; the query is kept as sent.
    package static func normalize(_ target: String) throws(RequestError) -> String {
        // The fast path reads the string's own bytes: no copy for the targets every SDK sends.
        let canonical = target.utf8.withContiguousStorageIfAvailable { p in
            p.first == UInt8(ascii: "/") && isCanonical(p[..<(p.firstIndex(of: UInt8(ascii: "?")) ?? p.count)])
        }
        if canonical == true { return target }
        let bytes = Array(target.utf8)
        let pathEnd = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.count
        guard bytes.first == UInt8(ascii: "/") else {
            throw .invalidRequest("The request path must start with '/'.")
        }
        if isCanonical(bytes[..<pathEnd]) { return target }

        var segments: [ArraySlice<UInt8>] = []
        for segment in bytes[..<pathEnd].split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            try check(segment)
            segments.append(segment)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for segment in segments {
            out.append(UInt8(ascii: "/"))
            out.append(contentsOf: segment)
        }
        if out.isEmpty { out.append(UInt8(ascii: "/")) }
        out.append(contentsOf: bytes[pathEnd...])
        return String(decoding: out, as: UTF8.self)
    }

    /// The fast path: no empty, `.` or `..` segment, no trailing `/`, no byte that needs a
    /// closer look. Dots inside a segment (`gemini-2.5-flash`) are fine.
    private static func isCanonical(_ path: some Collection<UInt8>) -> Bool {
        var segmentLength = 0
        var segmentIsDots = true
        var atStart = true
        for byte in path {
            defer { atStart = false }
            switch byte {
            case UInt8(ascii: "/"):
                if segmentLength == 0 && !atStart { return false }
                if segmentIsDots && segmentLength > 0 && segmentLength <= 2 { return false }
                segmentLength = 0
                segmentIsDots = true
                continue
            case UInt8(ascii: "%"), UInt8(ascii: "\\"), UInt8(ascii: "#"), ...0x20, 0x7F: return false
            case UInt8(ascii: "."): break
            default: segmentIsDots = false
            }
            segmentLength += 1
        }
        if segmentIsDots && segmentLength > 0 && segmentLength <= 2 { return false }
        return path.count == 1 || segmentLength > 0
    }

    private static func check(_ segment: ArraySlice<UInt8>) throws(RequestError) {
        if segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8) {
            throw .invalidRequest("The request path may not contain '.' or '..' segments; send the path as the provider documents it.")
        }
        var i = segment.startIndex
        while i < segment.endIndex {
            let byte = segment[i]
            switch byte {
            case UInt8(ascii: "\\"), UInt8(ascii: "#"), ...0x20, 0x7F:
                throw .invalidRequest("The request path may not contain spaces, control characters, '\\' or '#'.")
            case UInt8(ascii: "%"):
                guard i + 2 < segment.endIndex, let value = hexByte(segment[i + 1], segment[i + 2]) else {
                    throw .invalidRequest("The request path has a malformed percent-escape.")
                }
                if value == UInt8(ascii: "/") || value == UInt8(ascii: "\\") || value == UInt8(ascii: ".") || value == 0 {
                    throw .invalidRequest("The request path may not percent-encode '/', '\\', '.' or NUL.")
                }
                i += 3
                continue
            default: break
            }
            i += 1
        }
    }

    private static func hexByte(_ high: UInt8, _ low: UInt8) -> UInt8? {
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        guard let h = nibble(high), let l = nibble(low) else { return nil }
        return h << 4 | l
    }
}
