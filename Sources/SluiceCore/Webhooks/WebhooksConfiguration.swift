import Foundation

/// Signed callbacks (`webhooks:`): who may be called, how deliveries are retried, and each
/// tenant's default endpoints and signing secrets.
public struct WebhooksConfiguration: Sendable, Decodable {
    /// Host names accepted whatever they resolve to (an internal receiver you trust).
    /// Default: none.
    public var allowHosts: [String]
    /// Address ranges accepted although denied by default (`127.0.0.0/8`, `10.1.2.0/24`).
    /// Default: none.
    public var allowCIDRs: [String]
    /// Plain `http` URLs accepted. Default: false (https only).
    public var allowHTTP: Bool
    /// Waits before each delivery attempt, the first normally `0s`; a delivery that failed
    /// them all goes to `sluice.webhooks.dlq`. Durations like `500ms`, `5s`, `5m`, `2h`.
    /// Default: the Standard Webhooks schedule, 0s 5s 5m 30m 2h 5h 10h 14h 20h 24h.
    public var retrySchedule: [String]
    /// One delivery attempt's whole time, connect to last byte. Default: 15000.
    public var timeoutMs: Int
    /// Deliveries under way or waiting for their retry time, per process. Default: 1024.
    public var maxInFlight: Int
    /// Largest `Retry-After` honoured, in seconds; a receiver asking for longer gets this.
    /// Default: 86400.
    public var maxRetryAfterSeconds: Int
    /// Per-endpoint circuit breaker (same fields as `workers.breaker`). Default: 10 calls in
    /// 60 s, half of them failing, opens for 30 s.
    public var breaker: BreakerConfiguration
    /// Tenant id → its endpoints, signing secrets and own allowlist.
    public var tenants: [String: WebhookTenantConfiguration]

    public static let standardSchedule = ["0s", "5s", "5m", "30m", "2h", "5h", "10h", "14h", "20h", "24h"]

    public init(
        allowHosts: [String] = [], allowCIDRs: [String] = [], allowHTTP: Bool = false,
        retrySchedule: [String] = WebhooksConfiguration.standardSchedule, timeoutMs: Int = 15_000,
        maxInFlight: Int = 1_024, maxRetryAfterSeconds: Int = 86_400,
        breaker: BreakerConfiguration = .init(windowSeconds: 60, minRequests: 10, failureRatio: 0.5, cooldownMs: 30_000, halfOpenProbes: 1),
        tenants: [String: WebhookTenantConfiguration] = [:]
    ) {
        self.allowHosts = allowHosts
        self.allowCIDRs = allowCIDRs
        self.allowHTTP = allowHTTP
        self.retrySchedule = retrySchedule
        self.timeoutMs = timeoutMs
        self.maxInFlight = maxInFlight
        self.maxRetryAfterSeconds = maxRetryAfterSeconds
        self.breaker = breaker
        self.tenants = tenants
    }

    enum CodingKeys: String, CodingKey {
        case allowHosts = "allow_hosts", allowCIDRs = "allow_cidrs", allowHTTP = "allow_http"
        case retrySchedule = "retry_schedule", timeoutMs = "timeout_ms", maxInFlight = "max_in_flight"
        case maxRetryAfterSeconds = "max_retry_after_seconds", breaker, tenants
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = WebhooksConfiguration()
        allowHosts = try c.decodeIfPresent([String].self, forKey: .allowHosts) ?? d.allowHosts
        allowCIDRs = try c.decodeIfPresent([String].self, forKey: .allowCIDRs) ?? d.allowCIDRs
        allowHTTP = try c.decodeIfPresent(Bool.self, forKey: .allowHTTP) ?? d.allowHTTP
        retrySchedule = try c.decodeIfPresent([String].self, forKey: .retrySchedule) ?? d.retrySchedule
        timeoutMs = try c.decodeIfPresent(Int.self, forKey: .timeoutMs) ?? d.timeoutMs
        maxInFlight = try c.decodeIfPresent(Int.self, forKey: .maxInFlight) ?? d.maxInFlight
        maxRetryAfterSeconds = try c.decodeIfPresent(Int.self, forKey: .maxRetryAfterSeconds) ?? d.maxRetryAfterSeconds
        breaker = try c.decodeIfPresent(BreakerConfiguration.self, forKey: .breaker) ?? d.breaker
        tenants = try c.decodeIfPresent([String: WebhookTenantConfiguration].self, forKey: .tenants) ?? d.tenants
    }

    /// The longest single wait a schedule may hold: a week.
    public static let maxScheduleStepMs = 7 * 86_400_000

    /// `retry_schedule` in milliseconds; entries that do not parse are left out (``problems()``
    /// names them, and a process does not start with them).
    public var retryScheduleMs: [Int] {
        retrySchedule.compactMap(Self.durationMs)
    }

    /// `500ms`, `5s`, `5m`, `2h` (or a bare number of seconds) → milliseconds, within
    /// 0...``maxScheduleStepMs``; nil for anything else.
    public static func durationMs(_ text: String) -> Int? {
        let units: [(String, Int)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)]
        var number = Substring(text.trimmingCharacters(in: .whitespaces))
        var scale = 1_000
        for (suffix, factor) in units where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            scale = factor
            break
        }
        guard !number.isEmpty, number.count <= 9, number.allSatisfy(\.isASCII), let value = Int(number), value >= 0 else { return nil }
        let (ms, overflow) = value.multipliedReportingOverflow(by: scale)
        guard !overflow, ms <= maxScheduleStepMs else { return nil }
        return ms
    }

    /// The allowlist rules for ``WebhookURLPolicy``.
    public var allowRules: WebhookAllowRules {
        WebhookAllowRules(
            allowHosts: Set(allowHosts), allowNetworks: allowCIDRs.compactMap { IPNetwork($0) }, allowHTTP: allowHTTP,
            tenants: tenants.mapValues {
                WebhookAllowRules(allowHosts: Set($0.allowHosts), allowNetworks: $0.allowCIDRs.compactMap { IPNetwork($0) }, allowHTTP: $0.allowHTTP)
            })
    }

    /// Problems a human must fix, one sentence each naming the key.
    public func problems() -> [String] {
        var problems: [String] = []
        func check(_ key: String, _ value: Int, _ range: ClosedRange<Int>) {
            if !range.contains(value) {
                problems.append("\(key) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
        }
        check("webhooks.timeout_ms", timeoutMs, 100...300_000)
        check("webhooks.max_in_flight", maxInFlight, 1...1_000_000)
        check("webhooks.max_retry_after_seconds", maxRetryAfterSeconds, 0...(Self.maxScheduleStepMs / 1_000))
        if retrySchedule.isEmpty || retrySchedule.count > 50 {
            problems.append("webhooks.retry_schedule must have 1 to 50 entries, got \(retrySchedule.count)")
        }
        for (index, step) in retrySchedule.enumerated() where Self.durationMs(step) == nil {
            problems.append(
                "webhooks.retry_schedule[\(index)] '\(step)' must be a duration such as 5s, 5m or 2h, at most 168h")
        }
        for cidr in allowCIDRs where IPNetwork(cidr) == nil {
            problems.append("webhooks.allow_cidrs entry '\(cidr)' is not an address range such as 10.1.0.0/16")
        }
        problems += breaker.problems().map { $0.replacingOccurrences(of: "workers.breaker.", with: "webhooks.breaker.") }
        for (tenant, t) in tenants.sorted(by: { $0.key < $1.key }) {
            let key = "webhooks.tenants.\(tenant)"
            for cidr in t.allowCIDRs where IPNetwork(cidr) == nil {
                problems.append("\(key).allow_cidrs entry '\(cidr)' is not an address range such as 10.1.0.0/16")
            }
            for (index, secret) in t.secrets.enumerated() where WebhookSecret(secret) == nil {
                problems.append("\(key).secrets[\(index)] must be whsec_ followed by base64 of 24 to 64 bytes")
            }
            for (index, endpoint) in t.endpoints.enumerated() {
                if let secret = endpoint.secret, WebhookSecret(secret) == nil {
                    problems.append("\(key).endpoints[\(index)].secret must be whsec_ followed by base64 of 24 to 64 bytes")
                }
                if endpoint.secret == nil, t.secrets.isEmpty {
                    problems.append("\(key).endpoints[\(index)] has no secret and the tenant has no secrets to sign with")
                }
                do { _ = try WebhookTarget(parsing: endpoint.url) } catch {
                    problems.append("\(key).endpoints[\(index)].url \(error)")
                }
                for type in endpoint.events where !WebhookEventType.all.contains(type) {
                    problems.append("\(key).endpoints[\(index)].events: unknown event type '\(type)'")
                }
            }
        }
        return problems
    }
}

/// One tenant's webhook settings (`webhooks.tenants.<id>`).
public struct WebhookTenantConfiguration: Sendable, Decodable {
    /// `whsec_…` secrets that sign callbacks to the URLs its jobs name (and to endpoints without
    /// their own); all of them sign during a rotation. Default: none.
    public var secrets: [String]
    /// Endpoints that receive the tenant's events, whatever the job says. Default: none.
    public var endpoints: [WebhookEndpointConfiguration]
    public var allowHosts: [String]
    public var allowCIDRs: [String]
    public var allowHTTP: Bool

    public init(
        secrets: [String] = [], endpoints: [WebhookEndpointConfiguration] = [], allowHosts: [String] = [],
        allowCIDRs: [String] = [], allowHTTP: Bool = false
    ) {
        self.secrets = secrets
        self.endpoints = endpoints
        self.allowHosts = allowHosts
        self.allowCIDRs = allowCIDRs
        self.allowHTTP = allowHTTP
    }

    enum CodingKeys: String, CodingKey {
        case secrets, endpoints, allowHosts = "allow_hosts", allowCIDRs = "allow_cidrs", allowHTTP = "allow_http"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        secrets = try c.decodeIfPresent([String].self, forKey: .secrets) ?? []
        endpoints = try c.decodeIfPresent([WebhookEndpointConfiguration].self, forKey: .endpoints) ?? []
        allowHosts = try c.decodeIfPresent([String].self, forKey: .allowHosts) ?? []
        allowCIDRs = try c.decodeIfPresent([String].self, forKey: .allowCIDRs) ?? []
        allowHTTP = try c.decodeIfPresent(Bool.self, forKey: .allowHTTP) ?? false
    }
}

/// A tenant's default endpoint from config.
public struct WebhookEndpointConfiguration: Sendable, Decodable {
    public var url: String
    /// Its own signing secret; default: the tenant's `secrets`.
    public var secret: String?
    /// Event types it receives; empty means all. Default: all.
    public var events: [String]

    public init(url: String, secret: String? = nil, events: [String] = []) {
        self.url = url
        self.secret = secret
        self.events = events
    }

    enum CodingKeys: String, CodingKey { case url, secret, events }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        secret = try c.decodeIfPresent(String.self, forKey: .secret)
        events = try c.decodeIfPresent([String].self, forKey: .events) ?? []
    }
}

/// A Standard Webhooks signing secret: `whsec_` and the base64 of 24 to 64 random bytes.
public struct WebhookSecret: Sendable, Equatable {
    public let key: [UInt8]
    public let text: String

    public init?(_ text: String) {
        guard text.hasPrefix("whsec_"), let data = Data(base64Encoded: String(text.dropFirst(6))), (24...64).contains(data.count) else {
            return nil
        }
        self.key = Array(data)
        self.text = text
    }

    /// A new random secret of 32 bytes.
    public static func generate() -> WebhookSecret {
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        // 32 bytes are within 24...64, so this always parses.
        return WebhookSecret("whsec_" + Data(bytes).base64EncodedString())!
    }
}

/// The event types Sluice sends.
public enum WebhookEventType {
    public static let jobSucceeded = "job.succeeded"
    public static let jobFailed = "job.failed"
    public static let batchStatuses = ["completed", "failed", "expired", "cancelled"]
    public static let all: Set<String> = Set([jobSucceeded, jobFailed] + batchStatuses.map { "batch.\($0)" })
}
