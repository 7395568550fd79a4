/// An API key as the ledger stores it: never the key itself, only a salted hash of it.
public struct StoredAPIKey: Sendable, Equatable {
    /// The public part of the key (`sk-sluice-<key_id><secret>`), which names it in lists,
    /// audit and revocation.
    public var keyID: String
    public var tenant: String
    /// `submitter`, `auditor` or `admin`.
    public var role: String
    public var salt: [UInt8]
    /// SHA-256 of `salt || key`.
    public var hash: [UInt8]
    public var createdAtMs: Int64
    public var expiresAtMs: Int64?
    public var revokedAtMs: Int64?
    /// The tenants an auditor key may read; empty: none.
    public var grants: [String]

    public init(
        keyID: String, tenant: String, role: String, salt: [UInt8], hash: [UInt8], createdAtMs: Int64,
        expiresAtMs: Int64? = nil, revokedAtMs: Int64? = nil, grants: [String] = []
    ) {
        self.keyID = keyID
        self.tenant = tenant
        self.role = role
        self.salt = salt
        self.hash = hash
        self.createdAtMs = createdAtMs
        self.expiresAtMs = expiresAtMs
        self.revokedAtMs = revokedAtMs
        self.grants = grants
    }

    /// Whether the key may be used at `nowMs`.
    public func isUsable(nowMs: Int64) -> Bool {
        if let revokedAtMs, revokedAtMs <= nowMs { return false }
        if let expiresAtMs, expiresAtMs <= nowMs { return false }
        return true
    }
}

/// A tenant's row in the ledger: what an admin set at runtime. Nil fields leave the file's
/// value (or the default) in force.
public struct StoredTenant: Sendable, Equatable {
    public var id: String
    public var allowP0: Bool?
    public var subKeys: Int?
    public var limits: TenantLimits
    public var updatedAtMs: Int64

    public init(id: String, allowP0: Bool? = nil, subKeys: Int? = nil, limits: TenantLimits = .init(), updatedAtMs: Int64) {
        self.id = id
        self.allowP0 = allowP0
        self.subKeys = subKeys
        self.limits = limits
        self.updatedAtMs = updatedAtMs
    }
}

/// Everything the ledger knows of tenants and keys, read at once.
public struct TenancySnapshot: Sendable, Equatable {
    public var tenants: [StoredTenant]
    public var keys: [StoredAPIKey]

    public init(tenants: [StoredTenant] = [], keys: [StoredAPIKey] = []) {
        self.tenants = tenants
        self.keys = keys
    }
}

/// What a tenant has used, as the ledger counts it.
public struct TenantUsage: Sendable, Equatable {
    /// Jobs accepted and not finished.
    public var inFlight: Int
    /// Tokens recorded for the UTC day asked for.
    public var tokensToday: Int64
    /// Cost of the results finished since the start of the month asked for.
    public var monthCost: Double

    public init(inFlight: Int = 0, tokensToday: Int64 = 0, monthCost: Double = 0) {
        self.inFlight = inFlight
        self.tokensToday = tokensToday
        self.monthCost = monthCost
    }
}

/// Tenants, keys and usage for the ingress. The ledger implements it; the ingress knows only
/// this protocol (as with ``JobLookup``).
public protocol TenantDirectory: Sendable {
    /// Every tenant row and key.
    func tenancy() async throws -> TenancySnapshot
    /// One tenant's usage: jobs in flight, tokens of `day` (`YYYY-MM-DD`, UTC) and cost since
    /// `monthStartMs`.
    func usage(tenant: String, day: String, monthStartMs: Int64) async throws -> TenantUsage
    /// Adds estimated tokens to each tenant's count for `day`.
    func recordTokens(_ tokens: [String: Int64], day: String) async throws
    /// Creates the tenant row or changes the fields `tenant` sets.
    func upsertTenant(_ tenant: StoredTenant) async throws
    func insertKey(_ key: StoredAPIKey) async throws
    /// Revokes a key at `atMs`; false when there is no such key.
    func revokeKey(keyID: String, atMs: Int64) async throws -> Bool
    /// Sets a key's expiry; false when there is no such key.
    func expireKey(keyID: String, atMs: Int64) async throws -> Bool
}
