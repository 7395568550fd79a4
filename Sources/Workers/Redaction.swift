/// Descriptions without secrets (see SluiceCore's `Redaction.swift`): swift-service-lifecycle
/// logs each service with `"\(service)"`, and the default description of these structs would
/// print provider API keys.
extension ProviderDeployment: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "ProviderDeployment(\(label): \(kind) \(baseURL) model \(upstreamModel), api_key: \(apiKey == nil ? "nil" : "<redacted>"))"
    }
    public var debugDescription: String { description }
}

extension LLMWorkerPool: CustomStringConvertible {
    public var description: String { "LLMWorkerPool(deployments: \(limiters.keys.sorted()))" }
}

extension RetryRelay: CustomStringConvertible {
    public var description: String { "RetryRelay" }
}

extension ControlListener: CustomStringConvertible {
    public var description: String { "ControlListener" }
}
