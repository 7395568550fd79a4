extension SluiceConfiguration {
    /// The `tenants:` policies and the `ingress:` input limits against their ranges.
    func tenancyProblems() -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        for tenant in tenants {
            let key = "tenants[\(tenant.id)]"
            if !seen.insert(tenant.id).inserted { problems.append("\(key) is listed twice") }
            if !TenantID.isValid(tenant.id) {
                problems.append("\(key).id must be 1 to 64 letters, digits, '-', '_' or '.'")
            }
            problems += tenant.limits.problems(key: key + ".limits")
            if !TenantPolicy.subKeysRange.contains(tenant.subKeys) {
                problems.append("\(key).sub_keys must be between 1 and \(TenantPolicy.subKeysRange.upperBound), got \(tenant.subKeys)")
            }
        }
        problems += ingress.inputProblems()
        return problems
    }
}

/// Tenant ids: short, printable, and free of `#`, which separates a tenant from its sub-key in
/// Kafka keys.
public enum TenantID {
    public static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64
            && id.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F || b == 0x2E
            }
    }

    /// The Kafka key of a job: the tenant, or `tenant#n` when the tenant is spread over
    /// `subKeys` keys. Workers read the tenant from the record's header and envelope, never
    /// from this key.
    public static func partitionKey(tenant: String, subKeys: Int, pick: Int) -> String {
        guard subKeys > 1 else { return tenant }
        let n = pick.magnitude % UInt(subKeys)
        return "\(tenant)#\(n)"
    }
}

/// A PEM certificate chain and private key for a TLS listener.
public struct TLSFilesConfiguration: Sendable, Decodable, Equatable {
    public var certFile: String
    public var keyFile: String

    public init(certFile: String, keyFile: String) {
        self.certFile = certFile
        self.keyFile = keyFile
    }

    enum CodingKeys: String, CodingKey { case certFile = "cert_file", keyFile = "key_file" }
}

extension IngressConfiguration {
    /// The hostile-input limits and the tenancy refresh against their ranges.
    func inputProblems() -> [String] {
        var problems: [String] = []
        func check(_ key: String, _ value: Int, _ range: ClosedRange<Int>) {
            if !range.contains(value) {
                problems.append("\(key) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
        }
        check("ingress.max_messages", maxMessages, 1...1_000_000)
        check("ingress.max_string_bytes", maxStringBytes, 1...(256 << 20))
        check("ingress.max_json_depth", maxJSONDepth, 2...JSONValue.maxDepth)
        check("ingress.tenancy_refresh_ms", tenancyRefreshMs, 100...600_000)
        if let tls, tls.certFile.isEmpty || tls.keyFile.isEmpty {
            problems.append("ingress.tls needs both cert_file and key_file")
        }
        return problems
    }
}
