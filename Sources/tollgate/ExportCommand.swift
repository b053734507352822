import ArgumentParser
import Foundation
import TollgateServer
import TollgateStorage

/// `tollgate export`: every usage event the filters cover, as CSV (with a header row) or a JSON
/// array, the same as `GET /admin/export`; a progress line on stderr for large exports.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export usage events for accounting (CSV or JSON).")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "csv or json.") var format: String = "csv"
    @Option(help: "Write here instead of standard output.") var out: String?
    @OptionGroup var filters: StatsFilterOptions

    func run() async throws {
        guard format == "csv" || format == "json" else { throw ValidationError("--format must be csv or json.") }
        let stats = AdminStats(database: try database.open())
        let events: EventExport
        do {
            events = try stats.export(try filters.query(), by: .master)  // a bad filter is refused before anything is written
        } catch let error as InvalidQuery {
            throw ValidationError(error.message)
        }
        let handle: FileHandle
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: nil) else { throw ValidationError("Cannot write \(out).") }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        } else {
            handle = FileHandle.standardOutput
        }
        let started = ContinuousClock.now
        var count = 0
        try await events.write(format: format) { text, written in
            handle.write(Data(text.utf8))
            if out != nil, written / 50_000 > count / 50_000 { FileHandle.standardError.write(Data("\rexported \(written) events…".utf8)) }
            count = written
        }
        if let out {
            try handle.close()
            FileHandle.standardError.write(Data("\rexported \(count) events to \(out) in \(ContinuousClock.now - started)\n".utf8))
        }
    }
}
