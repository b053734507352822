import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization
import TollgateCore

/// How log lines are written (`TOLLGATE_LOG_FORMAT`, `log_format`).
package enum LogFormat: String, Sendable {
    /// swift-log's `StreamLogHandler`: `2026-12-06T02:55:00+0000 info tollgate : key=value message`.
    case text
    /// One JSON object per line (`JSONLogHandler`), for log shippers.
    case json
}

/// Writes each log record to standard error as one JSON object on one line (SPEC §15):
/// `time` (UTC, milliseconds), `level`, `logger`, `message`, then the metadata's members
/// (a request's `request_id` among them); a member named like one of those four is written as
/// `metadata.<name>`. Strings are strings, lists arrays, nested metadata objects.
///
/// Hand-written: swift-log ships only a text handler, and the mirror has no JSON one. A line is
/// written with `write(2)` under a lock, so lines from many threads never interleave.
package struct JSONLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level = .info
    private let label: String
    private let write: @Sendable (String) -> Void

    private static let lock = Mutex(())
    private static let reserved: Set<String> = ["time", "level", "logger", "message"]

    package init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    package static let standardError: @Sendable (String) -> Void = { line in
        lock.withLock { _ in
            var line = line
            line.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0, errno == EINTR {
                        continue
                    } else {
                        return  // nowhere to log a logging failure
                    }
                }
            }
        }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var line = "{\"time\":\"" + UTCTime.isoMillis(Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))) + "\""
        line += ",\"level\":\"\(event.level.rawValue)\",\"logger\":"
        JSONText.append(label, to: &line)
        line += ",\"message\":"
        JSONText.append(event.message.description, to: &line)
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for key in merged.keys.sorted() {
            line += ","
            JSONText.append(Self.reserved.contains(key) ? "metadata." + key : key, to: &line)
            line += ":"
            Self.append(merged[key]!, to: &line)
        }
        write(line + "}\n")
    }

    private static func append(_ value: Logger.Metadata.Value, to line: inout String) {
        switch value {
        case .string(let text): JSONText.append(text, to: &line)
        case .stringConvertible(let value): JSONText.append(value.description, to: &line)
        case .array(let values):
            line += "["
            for (index, value) in values.enumerated() {
                if index > 0 { line += "," }
                append(value, to: &line)
            }
            line += "]"
        case .dictionary(let members):
            line += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { line += "," }
                JSONText.append(key, to: &line)
                line += ":"
                append(members[key]!, to: &line)
            }
            line += "}"
        }
    }
}
