import SluiceCore

/// One place a model is served: a provider's endpoint, credential and upstream model name,
/// with its share of its route and its limits.
public struct ProviderDeployment: Sendable, Equatable {
    public var provider: String
    /// The wire format (`openai`, `azure`, `anthropic`, `gemini`, …; see ``ProviderAdapters``).
    public var kind: String
    public var baseURL: String
    public var apiKey: String?
    /// The provider's model name; for Azure, the deployment's name.
    public var upstreamModel: String
    /// Azure's `api-version`; nil means ``ProviderConfiguration/defaultAzureAPIVersion``.
    public var apiVersion: String? = nil
    /// Anthropic's `max_tokens` for jobs that name none.
    public var defaultMaxTokens: Int = 4_096
    /// The model's price, when the configuration has one (`pricing`).
    public var price: PriceConfiguration? = nil
    /// The currency of ``price``.
    public var currency: String = "USD"
    /// Share of its route's calls under the `weighted` strategy. Default: 1.
    public var weight: Int = 1
    /// The deployment's own limits over the provider's. Default: none.
    public var limits: LimitsConfiguration = .init()

    /// `provider/model`, as recorded on results; also what limits and breakers are kept by,
    /// since two routes naming the same provider model share one real limit.
    public var label: String { "\(provider)/\(upstreamModel)" }

    /// What `usage` cost on this deployment, or nil without a price or a usage.
    public func cost(of usage: Usage?) -> Double? {
        guard let usage, let price else { return nil }
        return price.cost(of: usage)
    }
}

/// A client-facing model name resolved: its deployments, strategy and fallback routes.
public struct ProviderRoute: Sendable {
    public var name: String
    public var strategy: String
    public var deployments: [ProviderDeployment]
    public var fallbacks: [String]
}

/// Resolves model names to routes, from the configuration.
public struct ProviderRouter: Sendable {
    private let routes: [String: ProviderRoute]

    /// - Parameters:
    ///   - providers: with `api_key_file` already read into `api_key` (see
    ///     ``ProviderConfiguration/resolvingKeyFile(read:)``); the library reads no files.
    ///   - environment: where `api_key_env` credentials are looked up.
    ///   - pricing: model name → price; the upstream model name wins over the client-facing one.
    /// - Throws: `WorkerError` when a route names an unknown provider or an unsupported kind.
    public init(
        routes: [String: RouteConfiguration], providers: [ProviderConfiguration], environment: [String: String],
        pricing: [String: PriceConfiguration] = [:], currency: String = "USD"
    ) throws {
        let byName = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var resolved: [String: ProviderRoute] = [:]
        for (model, route) in routes {
            var deployments: [ProviderDeployment] = []
            for entry in route.deployments {
                guard let provider = byName[entry.provider] else {
                    throw WorkerError("route '\(model)' names provider '\(entry.provider)', which is not configured")
                }
                guard ProviderAdapters.adapter(for: provider.kind) != nil else {
                    throw WorkerError("provider '\(provider.name)' has kind '\(provider.kind)'; supported: \(ProviderAdapters.kinds.sorted())")
                }
                let key = provider.apiKey ?? provider.apiKeyEnv.flatMap { environment[$0] }
                var base = provider.baseURL
                while base.hasSuffix("/") { base.removeLast() }
                let upstream = entry.model ?? model
                deployments.append(ProviderDeployment(
                    provider: provider.name, kind: provider.kind, baseURL: base, apiKey: key,
                    upstreamModel: upstream, apiVersion: provider.apiVersion, defaultMaxTokens: provider.defaultMaxTokens,
                    price: pricing[upstream] ?? pricing[model], currency: currency, weight: max(1, entry.weight),
                    limits: (entry.limits ?? .init()).overriding(provider.limits)
                ))
            }
            for fallback in route.fallbacks where routes[fallback] == nil {
                throw WorkerError("route '\(model)' falls back on '\(fallback)', which is not a route")
            }
            resolved[model] = ProviderRoute(name: model, strategy: route.strategy, deployments: deployments, fallbacks: route.fallbacks)
        }
        self.routes = resolved
    }

    public func route(named model: String) -> ProviderRoute? { routes[model] }

    /// Every deployment of every route, one per label (the first configuration of a label wins).
    public var deployments: [ProviderDeployment] {
        var seen = Set<String>()
        return routes.keys.sorted().flatMap { routes[$0]?.deployments ?? [] }.filter { seen.insert($0.label).inserted }
    }

    /// The routes to try for `model`: its own, then its fallbacks depth-first, each once
    /// (configuration validation refuses cycles; this guards anyway).
    public func chain(for model: String) -> [ProviderRoute] {
        var order: [ProviderRoute] = []
        var seen = Set<String>()
        func visit(_ name: String) {
            guard seen.insert(name).inserted, let route = routes[name] else { return }
            order.append(route)
            for fallback in route.fallbacks { visit(fallback) }
        }
        visit(model)
        return order
    }
}

/// A configuration problem in the worker setup.
public struct WorkerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
