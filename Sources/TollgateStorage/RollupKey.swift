import TollgateCore

/// A rollup row's key; a missing team or user is ''. At `RollupDetail.model` the key, team and user
/// are '' too and not stored.
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

    /// This key in a table of `granularity` and `detail`: the bucket that holds this one, with the
    /// dimensions the detail does not keep dropped.
    func rolled(to granularity: RollupGranularity, _ detail: RollupDetail) -> RollupKey {
        var key = self
        key.bucketStart = granularity.bucketStart(bucketStart)
        if detail == .model {
            key.keyID = ""
            key.team = ""
            key.user = ""
        }
        return key
    }
}
