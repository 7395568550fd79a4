import Kafka
import Logging
import ServiceLifecycle
import UnixSignals

extension CommonOptions {
    /// Loads the configuration, checks librdkafka, builds the services and runs them until
    /// SIGTERM or SIGINT, then shuts them down in reverse order.
    func runServices(_ label: String, _ build: (Wiring) async throws -> [any Service]) async throws {
        let wiring = try wiring(label)
        try KafkaLibrary.requireSupportedVersion()
        try await runServiceGroup(try await build(wiring), logger: wiring.logger)
    }
}

/// Runs services until SIGTERM or SIGINT, then shuts them down in reverse order.
///
/// A shutdown that takes longer than a minute (a broker that never comes back while results
/// wait to be published) is cut short; what was not committed is redelivered on restart.
func runServiceGroup(_ services: [any Service], logger: Logger) async throws {
    var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    configuration.maximumGracefulShutdownDuration = .seconds(60)
    try await ServiceGroup(configuration: configuration).run()
}
