/// Request ids: `req_` + 24 hex digits — 12 of the arrival time in Unix milliseconds, then 12
/// random — unique across restarts (they key usage events) and time-ordered, so each new usage
/// event lands at the end of the primary-key B-tree instead of on a random page of it.
enum RequestIDGenerator {
    /// The id of a request that arrived at `atMs` (Unix milliseconds).
    static func make(atMs: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        let ms = UInt64(max(0, atMs))
        let random = (generator.next() as UInt64) & 0xFFFF_FFFF_FFFF
        return "req_" + hex(ms & 0xFFFF_FFFF_FFFF, digits: 12) + hex(random, digits: 12)
    }

    private static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: digits - text.count) + text
    }
}
