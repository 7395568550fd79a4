import SluiceCore
import Synchronization

/// Each tenant's effective policy: the config file's `tenants:` entry with the ledger's row
/// (an admin's runtime change) laid over it field by field. Replaced as a whole on refresh.
final class TenantPolicies: Sendable {
    private let configured: [String: TenantPolicy]
    private let stored = Mutex<[String: StoredTenant]>([:])

    init(tenants: [TenantConfiguration]) {
        var policies: [String: TenantPolicy] = [:]
        for tenant in tenants { policies[tenant.id] = tenant.policy }
        configured = policies
    }

    func update(_ tenants: [StoredTenant]) {
        var byID: [String: StoredTenant] = [:]
        for tenant in tenants { byID[tenant.id] = tenant }
        stored.withLock { $0 = byID }
    }

    /// The policy in force for `tenant` (the defaults for a tenant known only by its keys).
    func policy(_ tenant: String) -> TenantPolicy {
        var policy = configured[tenant] ?? TenantPolicy()
        guard let row = stored.withLock({ $0[tenant] }) else { return policy }
        policy.limits = policy.limits.overridden(by: row.limits)
        if let allowP0 = row.allowP0 { policy.allowP0 = allowP0 }
        if let subKeys = row.subKeys, TenantPolicy.subKeysRange.contains(subKeys) { policy.subKeys = subKeys }
        return policy
    }

    /// Every tenant named in the file or the ledger, sorted.
    func tenantIDs() -> [String] {
        Set(configured.keys).union(stored.withLock { Set($0.keys) }).sorted()
    }
}
