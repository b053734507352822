import TollgateUpstream

/// The settings the request path reads, copied out of `TollgateConfig` once at start.
struct ProxySettings: Sendable {
    var allowPassthrough: Bool
    var maxBodyBytes: Int
    var timeouts: UpstreamTimeouts
}
