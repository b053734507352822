import Hummingbird
import NIOCore
import Synchronization

/// The admin API's two limits, shared by every admin route and the dashboard (docs/security.md):
/// failed sign-ins per client address, so keys cannot be guessed at speed, and requests per admin
/// principal (the master key, or one org-admin key), so one script cannot starve the database.
///
/// A successful sign-in takes nothing from its address's failure allowance. The client address is
/// the TCP peer's: `X-Forwarded-For` is never trusted, since any client can send it.
final class AdminThrottle: Sendable {
    private let failures: Mutex<AdminRateLimiter>
    private let requests: Mutex<AdminRateLimiter>
    private let clock: @Sendable () -> Int64

    init(failedAuthPerMinute: Int, requestsPerMinute: Int, capacity: Int = 10_000, clock: @escaping @Sendable () -> Int64) {
        self.failures = Mutex(AdminRateLimiter(perMinute: failedAuthPerMinute, capacity: capacity))
        self.requests = Mutex(AdminRateLimiter(perMinute: requestsPerMinute, capacity: capacity))
        self.clock = clock
    }

    /// The refusal for an address that failed too often lately, else nil; takes nothing.
    func refusingFailures(from address: String) -> AdminError? {
        let now = clock()
        guard let wait = failures.withLock({ $0.retryAfter(address, nowMs: now) }) else { return nil }
        var error = AdminError(
            .tooManyRequests, code: "rate_limit_exceeded",
            "Too many failed admin sign-in attempts from this address; try again in \(wait) s with the right key.")
        error.retryAfterSeconds = wait
        return error
    }

    /// Counts one failed sign-in against `address`.
    func recordFailure(from address: String) {
        let now = clock()
        failures.withLock { $0.charge(address, nowMs: now) }
    }

    /// Takes one request from the principal's allowance; the refusal when it is spent.
    func refusingRequest(of principal: String) -> AdminError? {
        let now = clock()
        guard let wait = requests.withLock({ $0.take(principal, nowMs: now) }) else { return nil }
        let limit = requests.withLock { $0.perMinute }
        var error = AdminError(
            .tooManyRequests, code: "rate_limit_exceeded",
            "This admin key made more than \(limit) admin requests in a minute (admin.requests_per_minute); retry in \(wait) s.")
        error.retryAfterSeconds = wait
        return error
    }

    /// The client's address as the limits count it: the TCP peer's IP, without the port.
    static func address(_ context: TollgateRequestContext) -> String {
        address(context.remoteAddress)
    }

    /// An IPv4 address as it is; an IPv6 one by its /64 network, the block one host usually gets,
    /// so rotating through its own 2^64 addresses gives an attacker no fresh allowance (an
    /// IPv4-mapped address counts as its IPv4 address).
    static func address(_ remote: SocketAddress?) -> String {
        switch remote {
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            let bytes = withUnsafeBytes(of: &raw) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
                return bytes[12...].map(String.init).joined(separator: ".")
            }
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "::/64"
        case .some(let remote):
            return remote.ipAddress ?? "local"
        case .none:
            return "unknown"
        }
    }
}
