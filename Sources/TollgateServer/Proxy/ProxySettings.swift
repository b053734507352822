import TollgateCore
import TollgateUpstream

/// The settings the request path reads, copied out of `TollgateConfig` once at start.
struct ProxySettings: Sendable {
    var allowPassthrough: Bool
    var maxBodyBytes: Int
    var timeouts: UpstreamTimeouts
    /// `pricing.unknown_model: block`: refuse models the pricing file does not know (403 `model_not_priced`).
    var blockUnpricedModels = false
    /// `TOLLGATE_CACHE`: the cache's default for requests that do not say otherwise.
    var cacheByDefault = false
    /// `TOLLGATE_CACHE_TTL` in seconds.
    var cacheTTLSeconds = 3600
    /// `limits.max_attribution_length`: longest org, user, session or tag value, in bytes.
    var maxAttributionLength = AttributionHeaders.defaultMaxLength
    /// `limits.max_orgs`: passthrough may create orgs until there are this many.
    var maxOrgs = 1000
    /// Which paths Tollgate keys may reach (`keys.unmetered_paths`).
    var keyPaths = KeyPathPolicy()
}
