/// A key Tollgate issued (SPEC §3). The secret itself is never kept: only its SHA-256 (`hash`) and
/// the first characters (`prefix`) that listings show.
package struct TollgateKey: Sendable, Equatable {
    package enum Role: String, Sendable, CaseIterable { case client, admin }
    package enum CachePolicy: String, Sendable, CaseIterable { case on, off, `default` }

    /// `key_…`
    package var id: String
    /// Lower-case hex SHA-256 of the secret.
    package var hash: String
    /// `tg_` + the secret's next 8 characters.
    package var prefix: String
    package var org: String
    package var name: String
    package var team: String?
    package var user: String?
    package var department: String?
    package var role: Role
    /// Glob patterns; empty allows every model.
    package var allowedModels: [String]
    package var rpmLimit: Int?
    package var tpmLimit: Int?
    package var cache: CachePolicy
    package var expiresAtMs: Int64?
    package var createdAtMs: Int64
    package var revokedAtMs: Int64?
    package var lastUsedAtMs: Int64?

    package init(
        id: String, hash: String, prefix: String, org: String, name: String = "", team: String? = nil,
        user: String? = nil, department: String? = nil, role: Role = .client, allowedModels: [String] = [],
        rpmLimit: Int? = nil, tpmLimit: Int? = nil, cache: CachePolicy = .default, expiresAtMs: Int64? = nil,
        createdAtMs: Int64, revokedAtMs: Int64? = nil, lastUsedAtMs: Int64? = nil
    ) {
        self.id = id
        self.hash = hash
        self.prefix = prefix
        self.org = org
        self.name = name
        self.team = team
        self.user = user
        self.department = department
        self.role = role
        self.allowedModels = allowedModels
        self.rpmLimit = rpmLimit
        self.tpmLimit = tpmLimit
        self.cache = cache
        self.expiresAtMs = expiresAtMs
        self.createdAtMs = createdAtMs
        self.revokedAtMs = revokedAtMs
        self.lastUsedAtMs = lastUsedAtMs
    }

    /// Why the key cannot be used at `nowMs`, or nil when it can.
    package func refusal(atMs nowMs: Int64) -> String? {
        if revokedAtMs != nil { return "This Tollgate key was revoked. Ask your admin for a new one." }
        if let expiresAtMs, expiresAtMs <= nowMs { return "This Tollgate key has expired. Ask your admin for a new one." }
        return nil
    }
}

/// An organization: the top of the attribution tree, with the markup its charges carry (SPEC §6).
package struct Organization: Sendable, Equatable {
    package var id: String
    package var name: String
    package var markup: Markup
    package var createdAtMs: Int64
    /// Where the org's alerts go when their budget names no webhook (SPEC §13).
    package var webhookURL: String?

    package init(id: String, name: String, markup: Markup = .none, createdAtMs: Int64, webhookURL: String? = nil) {
        self.id = id
        self.name = name
        self.markup = markup
        self.createdAtMs = createdAtMs
        self.webhookURL = webhookURL
    }
}

/// Tollgate key secrets and record ids, from OpenSSL's CSPRNG.
package enum KeySecret {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// `count` base62 characters, uniform: bytes ≥ 248 (= 4 × 62) are rejected rather than folded.
    package static func base62(_ count: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            for byte in Digest.randomBytes(count * 2) where byte < 248 && out.count < count {
                out.append(alphabet[Int(byte % 62)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A new secret: `tg_` + 32 base62 characters (about 190 bits).
    package static func generate() -> String { "tg_" + base62(32) }

    /// What is stored and looked up instead of the secret.
    package static func hash(_ secret: String) -> String { Digest.hex(Digest.sha256(secret.utf8)) }

    /// What listings show: `tg_` + 8 characters.
    package static func prefix(_ secret: String) -> String { String(secret.prefix(11)) }

    /// A record id such as `key_…`, `bud_…`, `alt_…`.
    package static func id(_ kind: String) -> String { kind + "_" + base62(16) }
}
