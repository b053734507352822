import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Gives memory freed after a burst back to the system once the proxy goes quiet.
///
/// glibc's malloc keeps freed memory in its per-thread arenas: after a burst of streams (every
/// one with its buffers, curl handle and metering state) the process keeps its peak resident size
/// long after the requests are gone, and a fleet's memory alarms see a leak that is not there.
/// Once a whole `interval` passes with no request settled and none in flight, after traffic since
/// the last trim, `malloc_trim(0)` returns the free pages of every arena. Quiet periods only:
/// trimming walks the arenas under their locks, and the pages it gives back fault in again on
/// the next requests (trimming whenever a steady single client happened to be between two
/// requests cost 12 % CPU per request at one connection).
struct MemoryTrimService: Service {
    let inFlight: InFlightCounter
    var interval: Duration = .seconds(2)

    func run() async throws {
        var servedAtLastLook = inFlight.served
        var servedAtLastTrim = servedAtLastLook
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            let served = inFlight.served
            defer { servedAtLastLook = served }
            guard served == servedAtLastLook, served != servedAtLastTrim, inFlight.value == 0 else { continue }
            servedAtLastTrim = served
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
