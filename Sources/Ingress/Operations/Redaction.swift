/// Descriptions without secrets: swift-service-lifecycle logs each service with
/// `"\(service)"`, and the default description of these structs would print every API key.
extension KeyRing: CustomStringConvertible, CustomDebugStringConvertible {
    var description: String { "KeyRing(<redacted>)" }
    var debugDescription: String { description }
}

extension IngressService: CustomStringConvertible {
    public var description: String { "IngressService" }
}

extension OperationsServer: CustomStringConvertible {
    public var description: String { "OperationsServer(port: \(port))" }
}
