import Synchronization

/// A request's place in a distributed trace (W3C Trace Context, SPEC §15): the client's
/// `traceparent` continued, or a new trace when it sent none (or one that does not parse).
///
/// Ids are kept as the lower-case hex the header and OTLP/JSON both use. Parsed by hand: the
/// header is one fixed-width line, and reading it here costs less than a dependency.
package struct TraceContext: Sendable, Equatable {
    /// 32 hex digits.
    package var traceID: String
    /// Tollgate's span for this request: 16 hex digits.
    package var spanID: String
    /// The client's span, when it sent a `traceparent`.
    package var parentSpanID: String?
    /// The trace's sampled flag: a parent that did not sample is followed (nothing exported),
    /// and a new trace is sampled.
    package var sampled: Bool

    package init(traceID: String, spanID: String, parentSpanID: String?, sampled: Bool) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.sampled = sampled
    }

    /// The context for a request with this `traceparent` header (nil: none): continued when it
    /// is valid, a new sampled trace otherwise.
    package init(continuing traceparent: String?) {
        // A span id is never zero (the specification's invalid value); neither is a trace id
        // whose last half is not.
        let spanID = Self.hex(IDSource.next() | 1, digits: 16)
        if let traceparent, let parent = Self.parse(traceparent) {
            self.init(traceID: parent.traceID, spanID: spanID, parentSpanID: parent.spanID, sampled: parent.sampled)
        } else {
            let traceID = Self.hex(IDSource.next(), digits: 16) + Self.hex(IDSource.next() | 1, digits: 16)
            self.init(traceID: traceID, spanID: spanID, parentSpanID: nil, sampled: true)
        }
    }

    /// Random ids without a system call each: xoshiro256** seeded once from the system's
    /// generator, behind a lock (`getrandom` per id was 2 % of the proxy's CPU with tracing on).
    /// Ids need to be unpredictable enough to sample on and unique, not secret.
    enum IDSource {
        private static let state = Mutex<(UInt64, UInt64, UInt64, UInt64)>({
            var system = SystemRandomNumberGenerator()
            return (system.next() | 1, system.next(), system.next(), system.next())
        }())

        static func next() -> UInt64 {
            state.withLock { s in
                let result = rotate(s.1 &* 5, 7) &* 9
                let t = s.1 << 17
                s.2 ^= s.0
                s.3 ^= s.1
                s.1 ^= s.2
                s.0 ^= s.3
                s.2 ^= t
                s.3 = rotate(s.3, 45)
                return result
            }
        }

        private static func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
    }

    /// The `traceparent` Tollgate sends on to the provider: this trace, with its own span as parent.
    package var traceparent: String { "00-\(traceID)-\(spanID)-\(sampled ? "01" : "00")" }

    /// `version-traceid-parentid-flags`. Version `ff` and all-zero ids are invalid; a future
    /// version may append fields after the four it shares with version `00`.
    static func parse(_ header: String) -> (traceID: String, spanID: String, sampled: Bool)? {
        let bytes = Array(header.utf8.prefix(256))
        guard bytes.count >= 55, bytes[2] == dash, bytes[35] == dash, bytes[52] == dash else { return nil }
        guard isHex(bytes[0..<2]), isHex(bytes[3..<35]), isHex(bytes[36..<52]), isHex(bytes[53..<55]) else { return nil }
        let version = String(decoding: bytes[0..<2], as: UTF8.self)
        guard version != "ff", version != "00" || bytes.count == 55, bytes.count == 55 || bytes[55] == dash else { return nil }
        let traceID = String(decoding: bytes[3..<35], as: UTF8.self)
        let spanID = String(decoding: bytes[36..<52], as: UTF8.self)
        guard traceID.utf8.contains(where: { $0 != zero }), spanID.utf8.contains(where: { $0 != zero }) else { return nil }
        let flags = hexValue(bytes[53]) << 4 | hexValue(bytes[54])
        return (traceID, spanID, flags & 1 == 1)
    }

    private static let dash = UInt8(ascii: "-")
    private static let zero = UInt8(ascii: "0")

    /// Lower-case hex only, as the specification requires.
    private static func isHex(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { ($0 >= zero && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8 { byte <= UInt8(ascii: "9") ? byte - zero : byte - UInt8(ascii: "a") + 10 }

    static func hex(_ value: UInt64, digits: Int) -> String {
        let digitsTable = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: zero, count: digits)
        var rest = value
        for index in stride(from: digits - 1, through: 0, by: -1) {
            out[index] = digitsTable[Int(rest & 0xF)]
            rest >>= 4
        }
        return String(decoding: out, as: UTF8.self)
    }
}
