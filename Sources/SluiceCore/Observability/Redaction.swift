/// Descriptions without secrets.
///
/// swift-service-lifecycle logs every service it starts with `"\(service)"` (at debug), and a
/// struct's default description prints every stored property, nested ones included: API keys
/// of tenants and providers would reach the log. Types that hold a key describe themselves
/// with the key replaced.
extension APIKeyConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "APIKeyConfiguration(key: <redacted>, role: \(role))" }
    public var debugDescription: String { description }
}

extension ProviderConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "ProviderConfiguration(name: \(name), kind: \(kind), base_url: \(baseURL), api_key: \(apiKey == nil ? "nil" : "<redacted>"))"
    }
    public var debugDescription: String { description }
}
