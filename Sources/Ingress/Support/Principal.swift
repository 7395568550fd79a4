import Foundation
import SluiceCore

/// Who is calling: the tenant and role an API key stands for.
struct Principal: Sendable, Equatable {
    var tenant: String
    var role: Role

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
        var maySubmit: Bool { kind != .auditor }
    }
}

/// Maps bearer tokens to principals. Built once from configuration; lookups are lock-free.
struct KeyRing: Sendable {
    private let principals: [String: Principal]

    /// - Throws: `IngressError` naming the tenant whose key has an unknown role.
    init(tenants: [TenantConfiguration]) throws {
        var principals: [String: Principal] = [:]
        for tenant in tenants {
            for key in tenant.keys {
                guard let role = Principal.Role(key.role) else {
                    throw IngressError("tenant '\(tenant.id)': unknown role '\(key.role)' (submitter, auditor or admin)")
                }
                principals[key.key] = Principal(tenant: tenant.id, role: role)
            }
        }
        self.principals = principals
    }

    /// The principal of an `Authorization` header value, or the 401 to answer.
    func authenticate(_ authorization: String?) throws(APIError) -> Principal {
        guard let authorization, !authorization.isEmpty else { throw .missingKey }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw .missingKey }
        guard let principal = principals[String(parts[1]).trimmingCharacters(in: .whitespaces)] else { throw .invalidKey }
        return principal
    }
}

/// A configuration problem found while building the ingress.
public struct IngressError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
