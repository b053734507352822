import Foundation
import Testing
@testable import TollgateStorage

#if canImport(Glibc)
import Glibc
#endif

@Suite("Idle-priority thread for maintenance work")
struct BackgroundThreadTests {
    @Test("work runs on its own thread under SCHED_IDLE and returns its result")
    func runsIdle() async throws {
        let (policy, onMain) = try await BackgroundThread.maintenance.run { _ -> (Int32, Bool) in
            var policy: Int32 = -1
            var parameters = sched_param()
            pthread_getschedparam(pthread_self(), &policy, &parameters)
            return (policy, Thread.isMainThread)
        }
        #expect(policy == 5)  // SCHED_IDLE
        #expect(!onMain)
    }

    @Test("cancelling the awaiting task tells the work, which stops")
    func cancellation() async throws {
        let task = Task {
            try await BackgroundThread.maintenance.run { cancellation -> Int in
                var rounds = 0
                while !cancellation.isCancelled {
                    rounds += 1
                    guard rounds < 5_000 else { return -1 }  // 5 s at most
                    Thread.sleep(forTimeInterval: 0.001)
                }
                return rounds
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        // An idle-priority thread may not have started before the cancel on a busy machine: 0 rounds is fine.
        let rounds = try await task.value
        #expect(rounds >= 0 && rounds < 5_000)
    }
}
