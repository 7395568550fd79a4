import SluiceCore

/// One place a model is served: a provider's endpoint, credential and upstream model name.
public struct ProviderDeployment: Sendable, Equatable {
    public var provider: String
    public var kind: String
    public var baseURL: String
    public var apiKey: String?
    public var upstreamModel: String

    /// `provider/model`, as recorded on results.
    public var label: String { "\(provider)/\(upstreamModel)" }
}

/// Resolves model names to routes, from the configuration.
public struct ProviderRouter: Sendable {
    private let routes: [String: ProviderDeployment]

    /// - Parameter environment: where `api_key_env` credentials are looked up.
    /// - Throws: `WorkerError` when a route names an unknown provider or an unsupported kind.
    public init(
        routes: [String: RouteConfiguration], providers: [ProviderConfiguration], environment: [String: String]
    ) throws {
        let byName = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var resolved: [String: ProviderDeployment] = [:]
        for (model, route) in routes {
            guard let provider = byName[route.provider] else {
                throw WorkerError("route '\(model)' names provider '\(route.provider)', which is not configured")
            }
            guard OpenAIChatAdapter.kinds.contains(provider.kind) else {
                throw WorkerError("provider '\(provider.name)' has kind '\(provider.kind)'; supported: \(OpenAIChatAdapter.kinds.sorted())")
            }
            let key = provider.apiKey ?? provider.apiKeyEnv.flatMap { environment[$0] }
            var base = provider.baseURL
            while base.hasSuffix("/") { base.removeLast() }
            resolved[model] = ProviderDeployment(
                provider: provider.name, kind: provider.kind, baseURL: base, apiKey: key,
                upstreamModel: route.model ?? model
            )
        }
        self.routes = resolved
    }

    public func route(for model: String) -> ProviderDeployment? { routes[model] }
}

/// A configuration problem in the worker setup.
public struct WorkerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
