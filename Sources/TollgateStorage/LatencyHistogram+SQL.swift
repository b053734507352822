import Foundation
import GRDB
import GRDBSQLite

/// SQL functions over stored latency histograms, registered on every connection Tollgate opens.
///
/// - `tollgate_hist_union(a, b)`: the union of two stored histograms (NULL counts as empty); the
///   rollup upsert merges a row's histogram with the batch's in one statement with it.
/// - `tollgate_hist(x)`: an aggregate; `x` is a stored histogram (merged) or a latency in
///   milliseconds (added), NULL is skipped. Queries use it to merge rollup rows
///   (`tollgate_hist(latency_hist)`) or to build a histogram from raw events
///   (`tollgate_hist(latency_ms)`), so both read with the same buckets.
///
/// The `sqlite3` shell does not have them; Tollgate's own commands do.
extension LatencyHistogram {
    static let unionFunctionName = "tollgate_hist_union"
    static let aggregateFunctionName = "tollgate_hist"

    /// Registers the functions on a connection (from `Configuration.prepareDatabase`).
    static func registerFunctions(in db: Database) {
        db.add(function: DatabaseFunction(unionFunctionName, argumentCount: 2, pure: true) { values in
            var histogram = try LatencyHistogram(databaseValue: values[0])
            histogram.merge(try LatencyHistogram(databaseValue: values[1]))
            return histogram.encoded
        })
        // The aggregate goes straight through SQLite's C API: GRDB's DatabaseAggregate boxes every
        // row's argument in a [DatabaseValue] and copies each blob into a Data, which was most of
        // the time of a month-long stats query (tens of thousands of rollup rows to merge).
        sqlite3_create_function_v2(
            db.sqliteConnection, aggregateFunctionName, 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil, nil,
            histogramStep, histogramFinal, nil)
    }

    /// Dense counts per bucket, kept in SQLite's zero-filled aggregate context.
    static let denseByteCount = CInt((overflowBucket + 1) * MemoryLayout<UInt64>.stride)

    /// Reads a stored histogram column; NULL reads as empty.
    init(databaseValue: DatabaseValue) throws {
        switch databaseValue.storage {
        case .null: self.init()
        case .blob(let data): try self.init(encoded: data)
        default: throw StorageError(.databaseFailed, "latency histogram is not a BLOB: \(databaseValue)")
        }
    }

}

/// `tollgate_hist` step: a blob is a stored histogram (merged), a number a latency in ms (added).
private let histogramStep: @convention(c) (OpaquePointer?, CInt, UnsafeMutablePointer<OpaquePointer?>?) -> Void = {
    context, _, arguments in
    guard let value = arguments?[0],
        let raw = sqlite3_aggregate_context(context, LatencyHistogram.denseByteCount)
    else { return }
    let dense = UnsafeMutableBufferPointer(
        start: raw.assumingMemoryBound(to: UInt64.self), count: LatencyHistogram.overflowBucket + 1)
    switch sqlite3_value_type(value) {
    case SQLITE_BLOB:
        let count = Int(sqlite3_value_bytes(value))
        guard count > 0, let bytes = sqlite3_value_blob(value) else { return }
        if !LatencyHistogram.add(encoded: UnsafeRawBufferPointer(start: bytes, count: count), into: dense) {
            sqlite3_result_error(context, "tollgate_hist: not a stored latency histogram", -1)
        }
    case SQLITE_INTEGER, SQLITE_FLOAT:
        dense[LatencyHistogram.bucket(forMs: sqlite3_value_double(value))] &+= 1
    case SQLITE_NULL:
        break
    default:
        sqlite3_result_error(context, "tollgate_hist takes a histogram or a latency", -1)
    }
}

/// `tollgate_hist` final: the merged histogram in its stored form.
private let histogramFinal: @convention(c) (OpaquePointer?) -> Void = { context in
    var histogram = LatencyHistogram()
    if let raw = sqlite3_aggregate_context(context, 0) {
        let dense = UnsafeBufferPointer(
            start: raw.assumingMemoryBound(to: UInt64.self), count: LatencyHistogram.overflowBucket + 1)
        histogram = LatencyHistogram(dense: Array(dense))
    }
    let encoded = histogram.encoded
    encoded.withUnsafeBytes { bytes in
        sqlite3_result_blob(context, bytes.baseAddress, CInt(bytes.count), unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self))
    }
}
