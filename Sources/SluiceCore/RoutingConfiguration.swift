/// Where one client-facing model name is served: one or more deployments, a strategy to pick
/// among them, and other routes to fall back on while all of them are down.
///
/// Two spellings: the short `demo: {provider: stub, model: x}` (one deployment) and the full
/// `{strategy, deployments: [...], fallbacks: [...]}`.
public struct RouteConfiguration: Sendable, Decodable {
    /// `weighted` (random by weight), `least-busy` (fewest calls running relative to its
    /// concurrency) or `lowest-cost` (the first available in the configured order, cheapest
    /// first, until a price table is wired in). Default: `weighted`.
    public var strategy: String
    public var deployments: [DeploymentConfiguration]
    /// Other routes, tried in order while every deployment of this one is unavailable (breaker
    /// open). Default: none.
    public var fallbacks: [String]

    public static let strategies: Set<String> = ["weighted", "least-busy", "lowest-cost"]

    public init(strategy: String = "weighted", deployments: [DeploymentConfiguration], fallbacks: [String] = []) {
        self.strategy = strategy
        self.deployments = deployments
        self.fallbacks = fallbacks
    }

    /// The short form: one deployment.
    public init(provider: String, model: String? = nil) {
        self.init(deployments: [DeploymentConfiguration(provider: provider, model: model)])
    }

    enum CodingKeys: String, CodingKey { case strategy, deployments, fallbacks, provider, model }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        strategy = try c.decodeIfPresent(String.self, forKey: .strategy) ?? "weighted"
        fallbacks = try c.decodeIfPresent([String].self, forKey: .fallbacks) ?? []
        if let provider = try c.decodeIfPresent(String.self, forKey: .provider) {
            guard !c.contains(.deployments) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .deployments, in: c, debugDescription: "give either provider/model or deployments, not both")
            }
            deployments = [DeploymentConfiguration(provider: provider, model: try c.decodeIfPresent(String.self, forKey: .model))]
        } else {
            deployments = try c.decode([DeploymentConfiguration].self, forKey: .deployments)
        }
    }
}

/// One provider model behind a route.
public struct DeploymentConfiguration: Sendable, Decodable {
    /// One of `providers[].name`.
    public var provider: String
    /// The provider's model (or Azure deployment) name. Default: the route's name.
    public var model: String?
    /// Share of the route's calls under `weighted`. Default: 1.
    public var weight: Int
    /// Limits of this deployment; each one set replaces the provider's. Default: the provider's.
    public var limits: LimitsConfiguration?

    public init(provider: String, model: String? = nil, weight: Int = 1, limits: LimitsConfiguration? = nil) {
        self.provider = provider
        self.model = model
        self.weight = weight
        self.limits = limits
    }

    enum CodingKeys: String, CodingKey { case provider, model, weight, limits }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try c.decode(String.self, forKey: .provider)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        weight = try c.decodeIfPresent(Int.self, forKey: .weight) ?? 1
        limits = try c.decodeIfPresent(LimitsConfiguration.self, forKey: .limits)
    }
}

/// A provider's published limits for one deployment (or a whole account). Each is optional:
/// what is not set is learned from the provider's rate-limit headers and 429s.
public struct LimitsConfiguration: Sendable, Decodable, Equatable {
    /// Requests per minute, for the whole fleet of workers.
    public var rpm: Int?
    /// Tokens (prompt + completion) per minute, for the whole fleet.
    public var tpm: Int?
    /// Calls running at once, per worker process.
    public var maxConcurrency: Int?

    public init(rpm: Int? = nil, tpm: Int? = nil, maxConcurrency: Int? = nil) {
        self.rpm = rpm
        self.tpm = tpm
        self.maxConcurrency = maxConcurrency
    }

    enum CodingKeys: String, CodingKey { case rpm, tpm, maxConcurrency = "max_concurrency" }

    /// Each field set here wins over `base`'s.
    public func overriding(_ base: LimitsConfiguration?) -> LimitsConfiguration {
        LimitsConfiguration(rpm: rpm ?? base?.rpm, tpm: tpm ?? base?.tpm, maxConcurrency: maxConcurrency ?? base?.maxConcurrency)
    }

    public static let rpmRange = 1...100_000_000
    public static let tpmRange = 1...100_000_000_000
    public static let maxConcurrencyRange = 1...100_000

    func problems(key: String) -> [String] {
        var problems: [String] = []
        func check(_ name: String, _ value: Int?, _ range: ClosedRange<Int>) {
            if let value, !range.contains(value) {
                problems.append("\(key).\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
        }
        check("rpm", rpm, Self.rpmRange)
        check("tpm", tpm, Self.tpmRange)
        check("max_concurrency", maxConcurrency, Self.maxConcurrencyRange)
        return problems
    }
}

/// The circuit breaker of every deployment (`workers.breaker`).
///
/// A deployment opens when, over the last `window_seconds`, at least `min_requests` calls were
/// made and at least `failure_ratio` of them failed for the provider's reasons (5xx, 529,
/// timeouts, refused connections; not 429s, which the rate limiter handles, nor the job's own
/// 4xx). After `cooldown_ms` it lets `half_open_probes` calls through; a success closes it, a
/// failure opens it again.
public struct BreakerConfiguration: Sendable, Decodable, Equatable {
    /// Default: 30.
    public var windowSeconds: Int
    /// Default: 20.
    public var minRequests: Int
    /// Default: 0.5.
    public var failureRatio: Double
    /// Default: 15000.
    public var cooldownMs: Int
    /// Default: 2.
    public var halfOpenProbes: Int

    public init(windowSeconds: Int = 30, minRequests: Int = 20, failureRatio: Double = 0.5, cooldownMs: Int = 15_000, halfOpenProbes: Int = 2) {
        self.windowSeconds = windowSeconds
        self.minRequests = minRequests
        self.failureRatio = failureRatio
        self.cooldownMs = cooldownMs
        self.halfOpenProbes = halfOpenProbes
    }

    enum CodingKeys: String, CodingKey {
        case windowSeconds = "window_seconds", minRequests = "min_requests", failureRatio = "failure_ratio"
        case cooldownMs = "cooldown_ms", halfOpenProbes = "half_open_probes"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = BreakerConfiguration()
        windowSeconds = try c.decodeIfPresent(Int.self, forKey: .windowSeconds) ?? d.windowSeconds
        minRequests = try c.decodeIfPresent(Int.self, forKey: .minRequests) ?? d.minRequests
        failureRatio = try c.decodeIfPresent(Double.self, forKey: .failureRatio) ?? d.failureRatio
        cooldownMs = try c.decodeIfPresent(Int.self, forKey: .cooldownMs) ?? d.cooldownMs
        halfOpenProbes = try c.decodeIfPresent(Int.self, forKey: .halfOpenProbes) ?? d.halfOpenProbes
    }

    func problems() -> [String] {
        var problems: [String] = []
        func check(_ key: String, _ value: Int, _ range: ClosedRange<Int>) {
            if !range.contains(value) {
                problems.append("workers.breaker.\(key) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
        }
        check("window_seconds", windowSeconds, 1...3_600)
        check("min_requests", minRequests, 1...1_000_000)
        check("cooldown_ms", cooldownMs, 1...3_600_000)
        check("half_open_probes", halfOpenProbes, 1...1_000)
        // `!(x > 0)` is also true for NaN.
        if !(failureRatio > 0 && failureRatio <= 1) {
            problems.append("workers.breaker.failure_ratio must be above 0 and at most 1, got \(failureRatio)")
        }
        return problems
    }
}

// MARK: - Validation

extension SluiceConfiguration {
    /// Routes that name unknown providers, unknown or cyclic fallbacks, unknown strategies.
    func routingProblems() -> [String] {
        var problems: [String] = []
        let providerNames = Set(providers.map(\.name))
        var seenProviders = Set<String>()
        for provider in providers where !seenProviders.insert(provider.name).inserted {
            problems.append("providers: name '\(provider.name)' is used twice")
        }
        for (name, route) in routes.sorted(by: { $0.key < $1.key }) {
            if !RouteConfiguration.strategies.contains(route.strategy) {
                problems.append("routes.\(name).strategy '\(route.strategy)' is not one of \(RouteConfiguration.strategies.sorted().joined(separator: ", "))")
            }
            if route.deployments.isEmpty {
                problems.append("routes.\(name).deployments must name at least one deployment")
            }
            for (index, deployment) in route.deployments.enumerated() where !providerNames.contains(deployment.provider) {
                let key = route.deployments.count == 1 ? "routes.\(name).provider" : "routes.\(name).deployments[\(index)].provider"
                problems.append("\(key) '\(deployment.provider)' is not one of providers[].name")
            }
            for fallback in route.fallbacks where routes[fallback] == nil {
                problems.append("routes.\(name).fallbacks: '\(fallback)' is not a configured route")
            }
        }
        if let cycle = fallbackCycle() {
            problems.append("routes: fallbacks form a cycle: \(cycle.joined(separator: " -> "))")
        }
        return problems
    }

    /// A cycle among the routes' fallbacks (`a -> b -> a`), if there is one.
    private func fallbackCycle() -> [String]? {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var path: [String] = []
        func visit(_ name: String) -> [String]? {
            if marks[name] == .done { return nil }
            if marks[name] == .visiting {
                let start = path.firstIndex(of: name) ?? 0
                return Array(path[start...]) + [name]
            }
            marks[name] = .visiting
            path.append(name)
            for next in routes[name]?.fallbacks ?? [] where routes[next] != nil {
                if let cycle = visit(next) { return cycle }
            }
            path.removeLast()
            marks[name] = .done
            return nil
        }
        for name in routes.keys.sorted() {
            if let cycle = visit(name) { return cycle }
        }
        return nil
    }
}
