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
///
/// A revocation or expiry announced on `sluice.control` (``announce(keyID:stopsAtMs:revoked:)``)
/// takes effect before the tables show it, and holds until they do: a re-read that started
/// before the revocation was written, and ends after the event arrived, cannot bring the key back.
final class KeyRing: Sendable {
    private let configured: [String: Principal]
    private let clock: WallClock
    private let stored = Mutex(Stored())

    private struct Stored {
        var keys: [String: StoredAPIKey] = [:]
        /// Announced stops not yet seen in the tables, by key id.
        var announced: [String: Stop] = [:]
    }

    /// When an announced key stops working, and whether it was revoked (final) or expired
    /// (may be moved by a later announcement).
    private struct Stop {
        var atMs: Int64
        var revoked: Bool

        /// Whether the key's row shows this stop, so the announcement is no longer needed.
        func isShown(by key: StoredAPIKey) -> Bool {
            revoked ? key.revokedAtMs != nil : key.expiresAtMs == atMs
        }
    }

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
        stored.withLock { stored in
            stored.keys = byID
            stored.announced = stored.announced.filter { keyID, stop in byID[keyID].map(stop.isShown) != true }
        }
    }

    /// A key revoked or expiring, as a control event announced it: refused from `atMs` on,
    /// whatever the tables said when they were last read.
    ///
    /// A revocation is final; an expiry replaces an earlier announced expiry (an admin may move
    /// it later).
    func announce(keyID: String, stopsAtMs atMs: Int64, revoked: Bool) {
        stored.withLock { stored in
            if stored.announced[keyID]?.revoked == true, !revoked { return }
            stored.announced[keyID] = Stop(atMs: atMs, revoked: revoked)
        }
    }

    /// The token of a `Bearer` credential: the scheme in any case, then spaces, then the token
    /// with spaces and tabs around it trimmed (RFC 9110 §11.4); nil when the value is not that.
    ///
    /// Scans the bytes once: every authenticated request passes here, and profiles showed the
    /// `split`/`lowercased`/`trimmingCharacters` version as the largest of the ingress's own
    /// costs per job.
    static func bearerToken(_ authorization: String) -> String? {
        var bytes = Substring(authorization).utf8
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        bytes = bytes.drop(while: { $0 == UInt8(ascii: " ") })
        let scheme = bytes.prefix(while: { $0 != UInt8(ascii: " ") })
        // ASCII letters only: OR-ing 0x20 folds case without touching what `bearer` could match.
        guard scheme.elementsEqual("bearer".utf8, by: { $0 | 0x20 == $1 }) else { return nil }
        bytes = bytes[scheme.endIndex...]
        guard bytes.first == UInt8(ascii: " ") else { return nil }
        bytes = bytes.drop(while: isSpace)
        while let last = bytes.last, isSpace(last) { bytes = bytes.dropLast() }
        guard !bytes.isEmpty else { return nil }
        return String(Substring(bytes))
    }

    /// The principal of an `Authorization` header value, or the 401 to answer.
    func authenticate(_ authorization: String?) throws(APIError) -> Principal {
        guard let authorization, let token = Self.bearerToken(authorization) else { throw .missingKey }
        if let principal = configured[token] { return principal }
        guard let keyID = APIKeyFormat.keyID(of: token) else { throw .invalidKey }
        let (found, stop) = stored.withLock { ($0.keys[keyID], $0.announced[keyID]) }
        guard let key = found else { throw .invalidKey }
        // Hash before looking at revocation, so that a guessed key id learns nothing by timing.
        guard APIKeyFormat.matches(token, salt: key.salt, hash: key.hash) else { throw .invalidKey }
        let nowMs = clock.nowMs()
        guard key.isUsable(nowMs: nowMs), stop.map({ nowMs < $0.atMs }) != false, let role = Principal.Role(key.role) else {
            throw .invalidKey
        }
        return Principal(tenant: key.tenant, role: role, grants: Set(key.grants), keyID: key.keyID)
    }
}

/// A configuration problem found while building the ingress.
public struct IngressError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
