import Foundation
import GRDB
import Testing
import TollgateCore

@testable import TollgateStorage

@Suite("Storage errors: a file that cannot be written is told apart from a failing query")
struct StorageErrorClassifyTests {
    @Test("SQLite codes about the file become notWritable, wrapped or not; others stay databaseFailed")
    func codes() {
        for code in [ResultCode.SQLITE_READONLY, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_PERM] {
            #expect(StorageError.classify(DatabaseError(resultCode: code))?.code == .notWritable, "\(code)")
            let wrapped = StorageError(.databaseFailed, "cannot write the access tables", underlying: DatabaseError(resultCode: code))
            let classified = StorageError.classify(wrapped)
            #expect(classified?.code == .notWritable && classified?.message == "cannot write the access tables")
        }
        #expect(StorageError.classify(DatabaseError(resultCode: .SQLITE_ERROR))?.code == .databaseFailed)
        #expect(StorageError.classify(StorageError(.conflict, "duplicate"))?.code == .conflict)
        struct Other: Error {}
        #expect(StorageError.classify(Other()) == nil)
    }

    @Test("a write while another connection holds an exclusive lock is notWritable once the busy timeout passes")
    func lockedFile() async throws {
        try await withTemporaryDatabase { database, directory in
            var configuration = Configuration()
            configuration.busyMode = .immediateError
            configuration.allowsUnsafeTransactions = true  // the lock is held across calls, as another process would
            let other = try DatabaseQueue(path: directory.databasePath, configuration: configuration)
            try await other.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE") }
            let store = AccessStore(database: database)
            var caught: (any Error)?
            do {
                try await store.insert(Organization(id: "acme", name: "Acme", createdAtMs: 0))
            } catch {
                caught = error
            }
            try await other.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
            #expect(caught.flatMap(StorageError.classify)?.code == .notWritable)
        }
    }
}
