import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Gives memory freed after a burst back to the system once the proxy goes quiet.
///
/// glibc's malloc keeps freed memory in its per-thread arenas: after a burst of streams (every
/// one with its buffers, curl handle and metering state) the process keeps its peak resident size
/// long after the requests are gone, and a fleet's memory alarms see a leak that is not there.
/// Every `interval`, if requests were served since the last look and none is in flight now,
/// `malloc_trim(0)` returns the free pages of every arena. Idle only: trimming walks the arenas
/// under their locks, which requests in flight would wait on.
struct MemoryTrimService: Service {
    let inFlight: InFlightCounter
    var interval: Duration = .seconds(2)
    let logger: Logger

    func run() async throws {
        var servedAtLastLook = inFlight.served
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            let served = inFlight.served
            guard served != servedAtLastLook, inFlight.value == 0 else { continue }
            servedAtLastLook = served
            _ = Self.mallocTrim?(0)
        }
    }

    /// glibc's `malloc_trim`, looked up at run time: `<malloc.h>` is not in Swift's Glibc module
    /// (nil elsewhere, e.g. musl, which has no arenas to trim).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()
}
