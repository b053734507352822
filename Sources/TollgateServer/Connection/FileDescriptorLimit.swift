#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit, raised to its hard ceiling at start (as Go's runtime and
/// nginx's `worker_rlimit_nofile` do): the soft default of 1 024 is a few hundred proxied
/// connections, since each also holds an upstream socket.
enum FileDescriptorLimit {
    /// Raises the soft limit to the hard one; returns the soft limit now in force.
    static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// The connection cap `limits.max_connections: 0` means: half of what is left of `fdLimit`
    /// after a reserve for the database, logs and listeners (each client connection may hold an
    /// upstream socket too), at most 10 000 and at least 16.
    static func defaultMaxConnections(fdLimit: Int) -> Int {
        min(10_000, max(16, (fdLimit - 128) / 2))
    }
}
