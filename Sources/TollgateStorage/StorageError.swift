/// An error from the storage layer: opening, migrating, writing or querying the usage database.
///
/// A struct around a code so callers can switch on `code` and new cases do not break them. It never
/// names an HTTP status; the server decides how each code is answered.
package struct StorageError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, coarsely.
    package enum Code: String, Sendable {
        /// The database file could not be opened or created.
        case openFailed = "open_failed"
        /// A schema migration failed; the database is left at the last good migration.
        case migrationFailed = "migration_failed"
        /// The database could not be written (read-only file, disk full, locked past the busy timeout).
        case notWritable = "not_writable"
        /// A query or a write failed.
        case databaseFailed = "database_failed"
        /// A record with the same id (or the same unique fields) already exists.
        case conflict = "conflict"
        /// A filter cannot be expressed (e.g. a tag name with a double quote).
        case invalidFilter = "invalid_filter"
    }

    package var code: Code
    package var message: String
    /// The error that caused this one, usually a GRDB `DatabaseError`.
    package var underlying: (any Error)?

    package init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    package var description: String {
        guard let underlying else { return "\(code.rawValue): \(message)" }
        return "\(code.rawValue): \(message): \(underlying)"
    }
}
