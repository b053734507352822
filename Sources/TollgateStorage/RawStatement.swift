import Foundation
import GRDB
import GRDBSQLite

/// Runs a statement that GRDB prepared and caches through SQLite's C API: binds values by position,
/// steps to completion, resets.
///
/// Used for the batch writer's two hot statements only (the event insert and the rollup upsert):
/// building a `StatementArguments` boxes each of the insert's 34 values in an existential, which
/// the writer benchmark showed to cost more than SQLite's own work. Such a statement must only be
/// run through this type, never through GRDB's `execute` too, since GRDB does not know its bindings.
struct RawStatement {
    private let statement: Statement
    private let handle: OpaquePointer
    private var position: CInt = 0

    /// `SQLITE_TRANSIENT`: SQLite copies the bytes before the bind call returns.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    init(_ statement: Statement) {
        self.statement = statement
        handle = statement.sqliteStatement
    }

    private mutating func next() -> CInt {
        position += 1
        return position
    }

    private func check(_ code: CInt) throws {
        guard code == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot bind argument \(position)", sql: statement.sql)
        }
    }

    mutating func bind(_ value: Int64) throws { try check(sqlite3_bind_int64(handle, next(), value)) }
    mutating func bind(_ value: Int) throws { try bind(Int64(value)) }
    mutating func bind(_ value: Bool) throws { try bind(Int64(value ? 1 : 0)) }
    mutating func bind(_ value: Double) throws { try check(sqlite3_bind_double(handle, next(), value)) }

    mutating func bind(_ value: Double?) throws {
        guard let value else { return try check(sqlite3_bind_null(handle, next())) }
        try bind(value)
    }

    mutating func bind(_ value: String) throws {
        var value = value
        let index = next()
        let code = value.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                // A nil pointer would bind NULL: '' needs a real one.
                guard let base = chars.baseAddress else { return sqlite3_bind_text(handle, index, "", 0, Self.transient) }
                return sqlite3_bind_text(handle, index, base, CInt(chars.count), Self.transient)
            }
        }
        try check(code)
    }

    mutating func bind(_ value: String?) throws {
        guard let value else { return try check(sqlite3_bind_null(handle, next())) }
        try bind(value)
    }

    mutating func bind(_ value: Data) throws {
        let index = next()
        let code = value.withUnsafeBytes { bytes in
            sqlite3_bind_blob(handle, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), CInt(bytes.count), Self.transient)
        }
        try check(code)
    }

    /// Runs the statement with the values bound since the last run, then resets it for the next.
    /// Returns the number of rows it changed.
    mutating func execute(_ db: Database) throws -> Int {
        defer {
            // No sqlite3_clear_bindings: every parameter is bound again before the next step (the
            // precondition below checks it), and clearing them is a pass over all of them per row.
            sqlite3_reset(handle)
            position = 0
        }
        precondition(position == sqlite3_bind_parameter_count(handle), "bound \(position) of \(sqlite3_bind_parameter_count(handle)) values")
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_DONE: return db.changesCount
            case SQLITE_ROW: continue
            case let code:
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: statement.sql)
            }
        }
    }
}
