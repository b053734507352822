import Foundation
import Logging
import Synchronization
import Testing
@testable import TollgateServer

@Suite("JSON log lines (TOLLGATE_LOG_FORMAT=json)")
struct JSONLogHandlerTests {
    /// Each line the handler writes, parsed.
    private final class Lines: Sendable {
        let written = Mutex<[String]>([])
        func objects() throws -> [[String: Any]] {
            try written.withLock { $0 }.map { line in
                #expect(line.hasSuffix("}\n") && line.dropLast().allSatisfy { $0 != "\n" }, "one line per record")
                return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            }
        }
    }

    @Test("one JSON object per line: time, level, logger, message, then the metadata, escaped")
    func lines() throws {
        let lines = Lines()
        var logger = Logger(label: "tollgate") { label in JSONLogHandler(label: label) { line in lines.written.withLock { $0.append(line) } } }
        logger[metadataKey: "instance"] = "a"
        logger.info("listening", metadata: ["address": "127.0.0.1:8080"])
        logger.warning(
            "upstream said \"no\"\nretrying",
            metadata: [
                "request_id": "req_1", "message": "shadowed", "attempts": .stringConvertible(3),
                "models": ["gpt-4o", "mini"], "limits": ["rpm": "60"],
            ])
        logger.debug("not written at info")
        let objects = try lines.objects()
        #expect(objects.count == 2)
        #expect(objects[0]["level"] as? String == "info" && objects[0]["logger"] as? String == "tollgate")
        #expect(objects[0]["message"] as? String == "listening" && objects[0]["address"] as? String == "127.0.0.1:8080")
        #expect(objects[0]["instance"] as? String == "a")
        let time = try #require(objects[0]["time"] as? String)
        #expect(time.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)
        #expect(objects[1]["message"] as? String == "upstream said \"no\"\nretrying")
        #expect(objects[1]["metadata.message"] as? String == "shadowed")
        #expect(objects[1]["request_id"] as? String == "req_1" && objects[1]["attempts"] as? String == "3")
        #expect(objects[1]["models"] as? [String] == ["gpt-4o", "mini"])
        #expect((objects[1]["limits"] as? [String: String]) == ["rpm": "60"])
    }
}
