import Synchronization

/// Bounds the label values that come from data rather than code.
///
/// Tenants are configured, but a deployment may configure thousands, and every distinct label
/// value is a time series Prometheus keeps in memory. The first ``maxTenants`` tenants a
/// process sees get their own series; the rest share `tenant="other"`.
public enum MetricLabels {
    /// Default: 100 tenants per process.
    public static let maxTenants = 100

    private static let seen = Mutex<Set<String>>([])

    /// `tenant` itself while fewer than ``maxTenants`` distinct tenants were labelled, else `other`.
    public static func tenant(_ tenant: String) -> String {
        seen.withLock { seen in
            if seen.contains(tenant) { return tenant }
            guard seen.count < maxTenants else { return "other" }
            seen.insert(tenant)
            return tenant
        }
    }
}
