import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A thread of its own under Linux's `SCHED_IDLE` policy that runs blocking maintenance work
/// (retention's deletes) handed to it, in order.
///
/// GRDB's synchronous `pool.write` called on this thread runs the transaction on this thread,
/// so the policy applies to the SQLite work itself: on a machine whose cores are all busy the
/// work gets only CPU that nothing else wants; on an idle one it runs at full speed.
/// Transactions stay short, so a descheduled holder of SQLite's write lock only delays the usage
/// writer (which queues in memory meanwhile), never a request.
///
/// (Running the usage writer's commits at a lowered nice value was measured too: on a saturated
/// machine it changed nothing, since the commits' CPU is spent either way.)
///
/// Hand-written because neither Foundation nor swift-nio offers a scheduling policy per thread
/// (`Thread.threadPriority` maps to a `SCHED_OTHER` priority, which Linux ignores).
package final class BackgroundThread: Sendable {
    /// Set from the awaiting task when it is cancelled; the work polls it between steps.
    package final class Cancellation: Sendable {
        private let flag = Atomic<Bool>(false)
        package var isCancelled: Bool { flag.load(ordering: .relaxed) }
        func cancel() { flag.store(true, ordering: .relaxed) }
    }

    /// Retention's deletes.
    package static let maintenance = BackgroundThread(name: "tollgate-prune")

    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let ready = DispatchSemaphore(value: 0)

    private init(name: String) {
        // Lives as long as the process: the one instance is static.
        let thread = Thread { [self] in
            Self.lowerToIdle()
            while true {
                ready.wait()
                let job = jobs.withLock { $0.removeFirst() }
                job()
            }
        }
        thread.name = name
        thread.start()
    }

    /// Runs `work` on this thread after the work queued before it, and returns its result.
    /// Cancelling the awaiting task sets the `Cancellation` that `work` is given; `work` decides
    /// when to stop.
    package func run<T: Sendable>(_ work: @escaping @Sendable (Cancellation) throws -> T) async throws -> T {
        let cancellation = Cancellation()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                jobs.withLock { $0.append { continuation.resume(with: Result { try work(cancellation) }) } }
                ready.signal()
            }
        } onCancel: {
            cancellation.cancel()
        }
    }

    private static func lowerToIdle() {
        #if os(Linux)
        var parameters = sched_param(sched_priority: 0)
        _ = pthread_setschedparam(pthread_self(), 5 /* SCHED_IDLE, not exported by Glibc */, &parameters)
        #endif
    }
}
