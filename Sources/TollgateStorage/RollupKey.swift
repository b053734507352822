import TollgateCore

/// A rollup row's key; a missing team, user or department is ''. Dimensions a `RollupDetail` does
/// not keep are '' too and not stored.
struct RollupKey: Hashable {
    var bucketStart: Int64
    var org: String
    var keyID: String
    var team: String
    var user: String
    var provider: String
    var model: String
    var department: String
    var endpoint: String
    var outcome: String
    /// The HTTP status as decimal text, as rollup tables store it.
    var status: String

    init(bucketStart: Int64, event: UsageEvent) {
        self.bucketStart = bucketStart
        org = event.org
        keyID = event.keyID
        team = event.team ?? ""
        user = event.user ?? ""
        provider = event.provider
        model = event.model
        department = event.department ?? ""
        endpoint = event.endpoint.rawValue
        outcome = event.outcome.rawValue
        status = String(event.status)
    }

    /// The value of an attribution dimension.
    subscript(dimension: StatsDimension) -> String {
        switch dimension {
        case .org: org
        case .key: keyID
        case .team: team
        case .user: user
        case .provider: provider
        case .model: model
        case .department: department
        case .endpoint: endpoint
        case .outcome: outcome
        case .status: status
        case .session, .tag: preconditionFailure("rollups do not carry \(dimension.parameter)")
        }
    }

    /// This key in a table of `granularity` and `detail`: the bucket that holds this one, with the
    /// dimensions the detail does not keep dropped.
    func rolled(to granularity: RollupGranularity, _ detail: RollupDetail) -> RollupKey {
        var key = self
        key.bucketStart = granularity.bucketStart(bucketStart)
        let kept = detail.dimensions
        if !kept.contains(.key) { key.keyID = "" }
        if !kept.contains(.team) { key.team = "" }
        if !kept.contains(.user) { key.user = "" }
        if !kept.contains(.provider) { key.provider = "" }
        if !kept.contains(.model) { key.model = "" }
        if !kept.contains(.department) { key.department = "" }
        if !kept.contains(.endpoint) { key.endpoint = "" }
        if !kept.contains(.outcome) { key.outcome = "" }
        if !kept.contains(.status) { key.status = "" }
        return key
    }
}
