import SluiceCore

/// One place a model is served: a provider's endpoint, credential and upstream model name.
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

    /// `provider/model`, as recorded on results.
    public var label: String { "\(provider)/\(upstreamModel)" }

    /// What `usage` cost on this deployment, or nil without a price or a usage.
    public func cost(of usage: Usage?) -> Double? {
        guard let usage, let price else { return nil }
        return price.cost(of: usage)
    }
}

/// Resolves model names to routes, from the configuration.
public struct ProviderRouter: Sendable {
    private let routes: [String: ProviderDeployment]

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
        var resolved: [String: ProviderDeployment] = [:]
        for (model, route) in routes {
            guard let provider = byName[route.provider] else {
                throw WorkerError("route '\(model)' names provider '\(route.provider)', which is not configured")
            }
            guard ProviderAdapters.adapter(for: provider.kind) != nil else {
                throw WorkerError("provider '\(provider.name)' has kind '\(provider.kind)'; supported: \(ProviderAdapters.kinds.sorted())")
            }
            let key = provider.apiKey ?? provider.apiKeyEnv.flatMap { environment[$0] }
            var base = provider.baseURL
            while base.hasSuffix("/") { base.removeLast() }
            let upstream = route.model ?? model
            resolved[model] = ProviderDeployment(
                provider: provider.name, kind: provider.kind, baseURL: base, apiKey: key,
                upstreamModel: upstream, apiVersion: provider.apiVersion, defaultMaxTokens: provider.defaultMaxTokens,
                price: pricing[upstream] ?? pricing[model], currency: currency
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
