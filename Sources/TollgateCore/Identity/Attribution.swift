/// Who a request is charged to: the dimensions every usage event carries (SPEC §3).
package struct Attribution: Sendable, Equatable {
    package var org: String
    package var keyID: String
    package var team: String?
    package var user: String?
    package var department: String?
    package var session: String?
    package var tags: [String: String]

    package init(
        org: String, keyID: String, team: String? = nil, user: String? = nil, department: String? = nil,
        session: String? = nil, tags: [String: String] = [:]
    ) {
        self.org = org
        self.keyID = keyID
        self.team = team
        self.user = user
        self.department = department
        self.session = session
        self.tags = tags
    }
}
