/// A successful answer kept by the response cache (SPEC §8): the provider's non-streaming JSON
/// body (a streamed original is assembled into one), with what the original request used and cost,
/// so a hit can report `potential_cost_usd` and be replayed as JSON or as a stream.
package struct CachedAnswer: Sendable, Equatable {
    /// Hex SHA-256 of the cache key (`CacheKey`).
    package var key: String
    package var org: String
    package var provider: String
    package var format: ProviderFormat
    package var endpoint: Endpoint
    package var model: String
    /// The answer as a non-streaming JSON body.
    package var body: [UInt8]
    package var usage: Usage
    /// What the original request cost; a hit saves this much.
    package var costNanos: Int64
    package var createdAtMs: Int64
    package var expiresAtMs: Int64

    package init(
        key: String, org: String, provider: String, format: ProviderFormat, endpoint: Endpoint, model: String,
        body: [UInt8], usage: Usage, costNanos: Int64, createdAtMs: Int64, expiresAtMs: Int64
    ) {
        self.key = key
        self.org = org
        self.provider = provider
        self.format = format
        self.endpoint = endpoint
        self.model = model
        self.body = body
        self.usage = usage
        self.costNanos = costNanos
        self.createdAtMs = createdAtMs
        self.expiresAtMs = expiresAtMs
    }

    /// Bytes it holds in memory, for the cache's bound (body plus a fixed allowance for the rest).
    package var memoryCost: Int { body.count + key.utf8.count + org.utf8.count + model.utf8.count + 160 }
}
