import TollgateCore

/// A rollup row's key; a missing team or user is ''.
struct RollupKey: Hashable {
    var bucketStart: Int64
    var org: String
    var keyID: String
    var team: String
    var user: String
    var provider: String
    var model: String

    init(bucketStart: Int64, event: UsageEvent) {
        self.bucketStart = bucketStart
        org = event.org
        keyID = event.keyID
        team = event.team ?? ""
        user = event.user ?? ""
        provider = event.provider
        model = event.model
    }
}
