import Foundation
import GRDB

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
        db.add(function: DatabaseFunction(aggregateFunctionName, argumentCount: 1, pure: true, aggregate: Aggregate.self))
    }

    /// Reads a stored histogram column; NULL reads as empty.
    init(databaseValue: DatabaseValue) throws {
        switch databaseValue.storage {
        case .null: self.init()
        case .blob(let data): try self.init(encoded: data)
        default: throw StorageError(.databaseFailed, "latency histogram is not a BLOB: \(databaseValue)")
        }
    }

    /// The state of one `tollgate_hist` aggregation: dense counts, so merging a stored histogram
    /// decodes its varints straight into them without allocating (the merge of tens of thousands of
    /// rollup rows is what a month-long stats query spends its time on).
    struct Aggregate: DatabaseAggregate {
        var dense = [UInt64](repeating: 0, count: LatencyHistogram.overflowBucket + 1)
        var latencies = LatencyHistogram()

        mutating func step(_ values: [DatabaseValue]) throws {
            switch values[0].storage {
            case .null: break
            case .blob(let data): try LatencyHistogram.add(encoded: data, into: &dense)
            case .double(let latency): latencies.add(latency)
            case .int64(let latency): latencies.add(Double(latency))
            case .string: throw StorageError(.databaseFailed, "tollgate_hist takes a histogram or a latency")
            }
        }

        func finalize() throws -> (any DatabaseValueConvertible)? {
            var histogram = LatencyHistogram(dense: dense)
            histogram.merge(latencies)
            return histogram.encoded
        }
    }
}
