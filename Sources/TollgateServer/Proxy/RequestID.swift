/// Request ids: `req_` + 24 hex digits — 12 of the arrival time in Unix milliseconds, then 12
/// random — unique across restarts (they key usage events) and time-ordered, so each new usage
/// event lands at the end of the primary-key B-tree instead of on a random page of it.
enum RequestIDGenerator {
    /// The id of a request that arrived at `atMs` (Unix milliseconds).
    static func make(atMs: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        let ms = UInt64(max(0, atMs)) & 0xFFFF_FFFF_FFFF
        let random = (generator.next() as UInt64) & 0xFFFF_FFFF_FFFF
        // Written byte by byte into the string's own storage: one allocation per id.
        return String(unsafeUninitializedCapacity: 28) { bytes in
            for (offset, byte) in "req_".utf8.enumerated() { bytes[offset] = byte }
            writeHex(ms, into: bytes, at: 4)
            writeHex(random, into: bytes, at: 16)
            return 28
        }
    }

    /// The low 48 bits of `value` as 12 lower-case hex digits at `start`.
    private static func writeHex(_ value: UInt64, into bytes: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        let digits: StaticString = "0123456789abcdef"
        for index in 0..<12 {
            let nibble = Int((value >> UInt64(4 * (11 - index))) & 0xF)
            bytes[start + index] = digits.utf8Start[nibble]
        }
    }
}
