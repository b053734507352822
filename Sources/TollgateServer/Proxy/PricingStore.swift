import Foundation
import Synchronization
import TollgateCore

/// The pricing table in use, swappable at run time (SIGHUP, `POST /admin/pricing/reload`)
/// without dropping requests: readers take the current table under a short lock.
package final class PricingStore: Sendable {
    private let table: Mutex<PricingTable>
    /// Where the table came from, for logs and `/admin/pricing` (a path, or "built-in").
    package let source: String

    package init(table: PricingTable, source: String) {
        self.table = Mutex(table)
        self.source = source
    }

    package var current: PricingTable { table.withLock { $0 } }

    package func replace(with newTable: PricingTable) { table.withLock { $0 = newTable } }

    /// Re-reads the file it was loaded from (the built-in copy stays as it is); in-flight requests
    /// keep the table they started with. Throws, keeping the current table, if the file is invalid.
    @discardableResult
    package func reload() throws -> PricingTable {
        guard source != "built-in" else { return current }
        guard let data = FileManager.default.contents(atPath: source) else {
            throw ConfigError("Cannot read pricing file '\(source)'.")
        }
        let table: PricingTable
        do {
            table = try PricingTable(json: data)
        } catch {
            throw ConfigError("Pricing file '\(source)' is invalid, keeping version \(current.version): \(error)")
        }
        replace(with: table)
        return table
    }

    /// Loads `path`, else `./pricing.json` if present, else the built-in copy (SPEC §1).
    package static func load(path: String?) throws -> PricingStore {
        let candidate = path ?? (FileManager.default.fileExists(atPath: "pricing.json") ? "pricing.json" : nil)
        guard let candidate else { return PricingStore(table: .builtIn(), source: "built-in") }
        guard let data = FileManager.default.contents(atPath: candidate) else {
            throw ConfigError("Cannot read pricing file '\(candidate)' (--pricing, TOLLGATE_PRICING or pricing.file).")
        }
        do {
            return PricingStore(table: try PricingTable(json: data), source: candidate)
        } catch {
            throw ConfigError("Pricing file '\(candidate)' is invalid: \(error)")
        }
    }
}
