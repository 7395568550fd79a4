import Foundation
import SluiceCore
import Synchronization

/// Who is calling: the tenant and role an API key stands for.
struct Principal: Sendable, Equatable {
    var tenant: String
    var role: Role
    /// The tenants an auditor reads (an admin reads all, whatever this says).
    var grants: Set<String> = []
    /// The ledger's id of the key; nil for a key from the config file.
    var keyID: String? = nil

    /// A struct over a private enum: roles will grow (per-batch keys, read-only keys).
    struct Role: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: String { case submitter, auditor, admin }
        private let kind: Kind

        static let submitter = Role(kind: .submitter)
        static let auditor = Role(kind: .auditor)
        static let admin = Role(kind: .admin)

        private init(kind: Kind) { self.kind = kind }

        init?(_ name: String) {
            guard let kind = Kind(rawValue: name) else { return nil }
            self.kind = kind
        }

        var description: String { kind.rawValue }
        /// Submitters and admins submit and cancel; auditors only read the audit log.
        var maySubmit: Bool { kind != .auditor }
    }

    /// Whether this caller may read `tenant`'s audit events.
    func reads(_ tenant: String) -> Bool {
        role == .admin || (role == .auditor && grants.contains(tenant))
    }
}

/// Maps bearer tokens to principals: the config file's keys, fixed at start, and the ledger's
/// keys (salted hashes), replaced as a whole by ``update(_:)`` whenever the tenancy tables are
/// re-read. Lookups take a lock only to copy the current tables.
final class KeyRing: Sendable {
    private let configured: [String: Principal]
    private let clock: WallClock
    private let stored = Mutex<[String: StoredAPIKey]>([:])

    /// - Throws: `IngressError` naming the tenant whose key has an unknown role.
    init(tenants: [TenantConfiguration], clock: WallClock = .system) throws {
        var principals: [String: Principal] = [:]
        for tenant in tenants {
            for key in tenant.keys {
                guard let role = Principal.Role(key.role) else {
                    throw IngressError("tenant '\(tenant.id)': unknown role '\(key.role)' (submitter, auditor or admin)")
                }
                principals[key.key] = Principal(tenant: tenant.id, role: role, grants: Set(key.grants ?? [tenant.id]))
            }
        }
        self.configured = principals
        self.clock = clock
    }

    /// Replaces the ledger's keys (a revoked or expired key stops working here).
    func update(_ keys: [StoredAPIKey]) {
        var byID: [String: StoredAPIKey] = [:]
        for key in keys { byID[key.keyID] = key }
        stored.withLock { $0 = byID }
    }

    /// The principal of an `Authorization` header value, or the 401 to answer.
    func authenticate(_ authorization: String?) throws(APIError) -> Principal {
        guard let authorization, !authorization.isEmpty else { throw .missingKey }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw .missingKey }
        let token = String(parts[1]).trimmingCharacters(in: .whitespaces)
        if let principal = configured[token] { return principal }
        guard let keyID = APIKeyFormat.keyID(of: token), let key = stored.withLock({ $0[keyID] }) else { throw .invalidKey }
        // Hash before looking at revocation, so that a guessed key id learns nothing by timing.
        guard APIKeyFormat.matches(token, salt: key.salt, hash: key.hash) else { throw .invalidKey }
        guard key.isUsable(nowMs: clock.nowMs()), let role = Principal.Role(key.role) else { throw .invalidKey }
        return Principal(tenant: key.tenant, role: role, grants: Set(key.grants), keyID: key.keyID)
    }
}

/// A configuration problem found while building the ingress.
public struct IngressError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
