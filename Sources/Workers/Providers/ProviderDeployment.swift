import SluiceCore

/// One place a model is served: a provider's endpoint, credential and upstream model name,
/// with its share of its route and its limits.
public struct ProviderDeployment: Sendable, Equatable {
    public var provider: String
    public var kind: String
    public var baseURL: String
    public var apiKey: String?
    public var upstreamModel: String
    /// Share of its route's calls under the `weighted` strategy. Default: 1.
    public var weight: Int = 1
    /// The deployment's own limits over the provider's. Default: none.
    public var limits: LimitsConfiguration = .init()

    /// `provider/model`, as recorded on results; also what limits and breakers are kept by,
    /// since two routes naming the same provider model share one real limit.
    public var label: String { "\(provider)/\(upstreamModel)" }
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

    /// - Parameter environment: where `api_key_env` credentials are looked up.
    /// - Throws: `WorkerError` when a route names an unknown provider or an unsupported kind.
    public init(
        routes: [String: RouteConfiguration], providers: [ProviderConfiguration], environment: [String: String]
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
                    throw WorkerError("provider '\(provider.name)' has kind '\(provider.kind)', which this worker cannot speak")
                }
                let key = provider.apiKey ?? provider.apiKeyEnv.flatMap { environment[$0] }
                var base = provider.baseURL
                while base.hasSuffix("/") { base.removeLast() }
                deployments.append(ProviderDeployment(
                    provider: provider.name, kind: provider.kind, baseURL: base, apiKey: key,
                    upstreamModel: entry.model ?? model, weight: max(1, entry.weight),
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
