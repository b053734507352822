import GRDB

extension StorageError {
    /// `error` as a storage error, or nil when it did not come from the database at all.
    ///
    /// A SQLite failure whose cause is the file rather than the query — read-only file or directory,
    /// locked by another process past the busy timeout, disk full, I/O error, cannot open — becomes
    /// `.notWritable` even when a store wrapped it as `.databaseFailed`, so callers can tell "fix the
    /// file and retry" from a bug.
    package static func classify(_ error: any Error) -> StorageError? {
        switch error {
        case let storage as StorageError:
            guard storage.code == .databaseFailed, let underlying = storage.underlying as? DatabaseError,
                isUnavailable(underlying)
            else { return storage }
            return StorageError(.notWritable, storage.message, underlying: underlying)
        case let database as DatabaseError:
            return StorageError(isUnavailable(database) ? .notWritable : .databaseFailed, "database error", underlying: database)
        default:
            return nil
        }
    }

    private static func isUnavailable(_ error: DatabaseError) -> Bool {
        switch error.resultCode {
        case .SQLITE_READONLY, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_PERM:
            true
        default:
            false
        }
    }
}
