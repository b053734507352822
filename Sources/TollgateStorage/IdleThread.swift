import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking maintenance work (retention deletes) on a thread of its own under Linux's
/// `SCHED_IDLE` policy: it gets the CPU only when nothing else wants it, so a long prune no
/// longer takes CPU from live requests on a busy machine, and still runs at full speed on an idle one.
///
/// Hand-written because neither Foundation nor swift-nio offers a scheduling policy per thread
/// (`Thread.threadPriority` maps to a `SCHED_OTHER` priority, which Linux ignores).
///
/// Work that holds SQLite's write lock keeps its transactions short: a descheduled idle thread
/// holding the lock only delays the usage writer (which queues in memory meanwhile), never a request.
enum IdleThread {
    /// Linux's `SCHED_IDLE` (sched.h), which the Glibc module does not export.
    private static let schedIdle: Int32 = 5

    /// Set from the awaiting task when it is cancelled; the work polls it between steps.
    final class Cancellation: Sendable {
        private let flag = Atomic<Bool>(false)
        var isCancelled: Bool { flag.load(ordering: .relaxed) }
        func cancel() { flag.store(true, ordering: .relaxed) }
    }

    /// Runs `work` on a new idle-priority thread named `name` and returns its result. Cancelling
    /// the awaiting task sets the `Cancellation` that `work` is given; `work` decides when to stop.
    static func run<T: Sendable>(
        name: String, _ work: @escaping @Sendable (Cancellation) throws -> T
    ) async throws -> T {
        let cancellation = Cancellation()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let thread = Thread {
                    #if os(Linux)
                    var parameters = sched_param(sched_priority: 0)
                    _ = pthread_setschedparam(pthread_self(), schedIdle, &parameters)
                    #endif
                    continuation.resume(with: Result { try work(cancellation) })
                }
                thread.name = name
                thread.start()
            }
        } onCancel: {
            cancellation.cancel()
        }
    }
}
