import Testing

@testable import TollgateServer

@Suite("Request ids")
struct RequestIDTests {
    @Test("req_ + 12 hex digits of the arrival millisecond + 12 random hex digits, unique, time-ordered")
    func format() {
        let ms: Int64 = 1_763_000_123_456
        let ids = (0..<2_000).map { RequestIDGenerator.make(atMs: ms + Int64($0 / 100)) }
        for id in ids {
            #expect(id.utf8.count == 28)
            #expect(id.hasPrefix("req_"))
            #expect(id.dropFirst(4).allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) })
        }
        #expect(ids[0].dropFirst(4).prefix(12) == "0" + String(ms, radix: 16))
        #expect(Set(ids).count == ids.count)
        // Ids of later milliseconds sort after earlier ones, so events append to the primary key.
        #expect(ids[100] > ids[99])
        #expect(ids[1_999] > ids[0])
        #expect(RequestIDGenerator.make(atMs: 0).hasPrefix("req_000000000000"))
        #expect(RequestIDGenerator.make(atMs: -5).hasPrefix("req_000000000000"))
    }
}
