/// A tenant's limits, enforced at the ingress. Every limit is optional: absent means unlimited.
///
/// The same struct is the `limits:` of a tenant in `sluice.yaml` and the limits an admin sets at
/// runtime (`PATCH /v1/admin/tenants/{id}`, `sluice tenants set`); the ledger's row wins field by
/// field over the file, so an admin's change needs no restart.
public struct TenantLimits: Sendable, Equatable, Decodable {
    /// Steady request rate of the token bucket (submissions per second). Default: unlimited.
    public var requestsPerSecond: Double?
    /// Bucket size: how many requests may come at once after a quiet spell. Default: one
    /// second's worth of `requests_per_second` (at least 1).
    public var burst: Int?
    /// Jobs accepted and without a result yet. Default: unlimited.
    public var maxInFlight: Int?
    /// Tokens per UTC day, estimated at submission as `max_tokens` plus prompt bytes / 4.
    /// Default: unlimited.
    public var tokensPerDay: Int?
    /// Spend per calendar month (UTC) in `pricing_currency`, from the costs the ledger
    /// recorded. Default: unlimited.
    public var monthlyBudget: Double?

    public init(
        requestsPerSecond: Double? = nil, burst: Int? = nil, maxInFlight: Int? = nil, tokensPerDay: Int? = nil,
        monthlyBudget: Double? = nil
    ) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
        self.maxInFlight = maxInFlight
        self.tokensPerDay = tokensPerDay
        self.monthlyBudget = monthlyBudget
    }

    /// Ranges every limit must lie in: wide enough for any real deployment, narrow enough that
    /// arithmetic on them (bucket refills, token sums in Int64) cannot overflow.
    public static let requestsPerSecondRange: ClosedRange<Double> = 0.001...1_000_000
    public static let burstRange: ClosedRange<Int> = 1...10_000_000
    public static let maxInFlightRange: ClosedRange<Int> = 0...100_000_000
    public static let tokensPerDayRange: ClosedRange<Int> = 0...(1 << 50)
    public static let monthlyBudgetRange: ClosedRange<Double> = 0...1_000_000_000_000

    enum CodingKeys: String, CodingKey {
        case requestsPerSecond = "requests_per_second", burst, maxInFlight = "max_in_flight"
        case tokensPerDay = "tokens_per_day", monthlyBudget = "monthly_budget"
    }

    /// One sentence per value out of range, naming `key` (e.g. `tenants[acme].limits`).
    public func problems(key: String) -> [String] {
        var problems: [String] = []
        if let v = requestsPerSecond, !(v.isFinite && Self.requestsPerSecondRange.contains(v)) {
            problems.append("\(key).requests_per_second must be between 0.001 and 1000000, got \(v)")
        }
        if let v = burst, !Self.burstRange.contains(v) {
            problems.append("\(key).burst must be between 1 and 10000000, got \(v)")
        }
        if let v = maxInFlight, !Self.maxInFlightRange.contains(v) {
            problems.append("\(key).max_in_flight must be between 0 and 100000000, got \(v)")
        }
        if let v = tokensPerDay, !Self.tokensPerDayRange.contains(v) {
            problems.append("\(key).tokens_per_day must be between 0 and \(1 << 50), got \(v)")
        }
        if let v = monthlyBudget, !(v.isFinite && Self.monthlyBudgetRange.contains(v)) {
            problems.append("\(key).monthly_budget must be between 0 and 1000000000000, got \(v)")
        }
        return problems
    }

    /// These limits with every field `other` sets replacing this one's.
    public func overridden(by other: TenantLimits) -> TenantLimits {
        TenantLimits(
            requestsPerSecond: other.requestsPerSecond ?? requestsPerSecond, burst: other.burst ?? burst,
            maxInFlight: other.maxInFlight ?? maxInFlight, tokensPerDay: other.tokensPerDay ?? tokensPerDay,
            monthlyBudget: other.monthlyBudget ?? monthlyBudget)
    }
}

/// What a tenant may do beyond its limits: the effective policy, file and ledger merged.
public struct TenantPolicy: Sendable, Equatable {
    public var limits: TenantLimits
    /// May submit at `p0` (interactive). Default: false.
    public var allowP0: Bool
    /// Kafka keys the tenant's jobs are spread over (`tenant`, or `tenant#0` … `tenant#n-1`), so
    /// that one tenant's bulk load uses several partitions. Default: 1.
    public var subKeys: Int

    public static let subKeysRange: ClosedRange<Int> = 1...1_024

    public init(limits: TenantLimits = .init(), allowP0: Bool = false, subKeys: Int = 1) {
        self.limits = limits
        self.allowP0 = allowP0
        self.subKeys = subKeys
    }
}
