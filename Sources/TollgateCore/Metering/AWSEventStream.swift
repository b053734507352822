/// Decodes AWS's event-stream framing (`application/vnd.amazon.eventstream`), in which Bedrock
/// streams its answers, so Tollgate can meter them while relaying the bytes untouched.
///
/// Each message: a 12-byte prelude (total length, headers length, both big-endian UInt32, and the
/// CRC-32 of those 8 bytes), the headers, the payload, and the CRC-32 of everything before it.
/// A header is a 1-byte name length, the name, a 1-byte value type and the value. Messages may be
/// split across chunks anywhere. A CRC that does not match, or a length out of bounds, stops the
/// decoding for good (`failure`): the bytes after it cannot be framed with any confidence.
///
/// Written here: no Swift library decodes this framing without the AWS SDK around it.
package struct AWSEventStreamDecoder: Sendable {
    package struct Message: Sendable, Equatable {
        /// The string-valued headers (`:message-type`, `:event-type`, `:exception-type`, …).
        package var headers: [String: String]
        package var payload: [UInt8]
    }

    /// Why decoding stopped, if it did.
    package private(set) var failure: String?

    private var pending: [UInt8] = []
    /// Bytes of `pending` already decoded (dropped once they are most of it).
    private var consumed = 0

    /// AWS's limit for one message (16 MiB payload plus headers); larger means a broken stream.
    static let maxMessageBytes = 16 << 20 + 128 << 10
    static let preludeBytes = 12

    package init() {}

    /// Feeds the next chunk; calls `body` with every message it completes.
    package mutating func feed(_ bytes: some Collection<UInt8>, _ body: (Message) -> Void) {
        guard failure == nil else { return }
        pending.append(contentsOf: bytes)
        while failure == nil, let message = next() { body(message) }
        if consumed > 0 && consumed * 2 >= pending.count {
            pending.removeFirst(consumed)
            consumed = 0
        }
    }

    /// Bytes received that do not yet make a whole message (a stream that ends with some was cut).
    package var bufferedBytes: Int { pending.count - consumed }

    private mutating func next() -> Message? {
        let available = pending.count - consumed
        guard available >= Self.preludeBytes else { return nil }
        return pending.withUnsafeBufferPointer { all -> Message? in
            let p = UnsafeBufferPointer(rebasing: all[consumed...])
            let total = Int(Self.uint32(p, at: 0))
            let headersLength = Int(Self.uint32(p, at: 4))
            guard CRC32.checksum(UnsafeBufferPointer(rebasing: p[0..<8])) == Self.uint32(p, at: 8) else {
                failure = "an event-stream prelude failed its CRC"
                return nil
            }
            guard total >= Self.preludeBytes + 4, total <= Self.maxMessageBytes, headersLength <= total - Self.preludeBytes - 4 else {
                failure = "an event-stream message claims \(total) bytes with \(headersLength) of headers"
                return nil
            }
            guard available >= total else { return nil }
            guard CRC32.checksum(UnsafeBufferPointer(rebasing: p[0..<(total - 4)])) == Self.uint32(p, at: total - 4) else {
                failure = "an event-stream message failed its CRC"
                return nil
            }
            guard let headers = Self.headers(UnsafeBufferPointer(rebasing: p[Self.preludeBytes..<(Self.preludeBytes + headersLength)])) else {
                failure = "an event-stream message has malformed headers"
                return nil
            }
            consumed += total
            return Message(headers: headers, payload: Array(p[(Self.preludeBytes + headersLength)..<(total - 4)]))
        }
    }

    /// The string headers; other value types are skipped by their size. Nil when a header runs
    /// past the end.
    static func headers(_ p: UnsafeBufferPointer<UInt8>) -> [String: String]? {
        var headers: [String: String] = [:]
        var i = 0
        while i < p.count {
            let nameLength = Int(p[i])
            i += 1
            guard i + nameLength + 1 <= p.count else { return nil }
            let name = String(decoding: UnsafeBufferPointer(rebasing: p[i..<(i + nameLength)]), as: UTF8.self)
            i += nameLength
            let type = p[i]
            i += 1
            let size: Int
            switch type {
            case 0, 1: size = 0  // true, false
            case 2: size = 1  // byte
            case 3: size = 2  // short
            case 4: size = 4  // integer
            case 5, 8: size = 8  // long, timestamp
            case 9: size = 16  // uuid
            case 6, 7:  // byte array, string: a 2-byte length first
                guard i + 2 <= p.count else { return nil }
                let length = Int(p[i]) << 8 | Int(p[i + 1])
                i += 2
                guard i + length <= p.count else { return nil }
                if type == 7 { headers[name] = String(decoding: UnsafeBufferPointer(rebasing: p[i..<(i + length)]), as: UTF8.self) }
                i += length
                continue
            default: return nil
            }
            guard i + size <= p.count else { return nil }
            i += size
        }
        return headers
    }

    private static func uint32(_ p: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt32 {
        UInt32(p[offset]) << 24 | UInt32(p[offset + 1]) << 16 | UInt32(p[offset + 2]) << 8 | UInt32(p[offset + 3])
    }
}

/// CRC-32 (IEEE 802.3, the one zlib computes), table-driven. By hand: OpenSSL has no CRC-32, and
/// zlib is not among Tollgate's libraries for one function.
package enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    package static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for byte in bytes { crc = t[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }

    package static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { checksum($0) }
    }
}
