import Ingress
import Kafka
import Logging
import ServiceLifecycle
import SluiceCore
import Telemetry
import UnixSignals

extension CommonOptions {
    /// Loads the configuration, checks librdkafka, builds the services and runs them until
    /// SIGTERM or SIGINT, then shuts them down in reverse order.
    ///
    /// With `--operations-port`, an ``OperationsServer`` serves the process's readiness and
    /// metrics; it starts first and stops last, so probes see the whole shutdown.
    func runServices(_ label: String, _ build: (Wiring) async throws -> [any Service]) async throws {
        let wiring = try wiring(label)
        try KafkaLibrary.requireSupportedVersion()
        var services = try await build(wiring)
        if wiring.configuration.tracing.otlpEndpoint != nil {
            // First in the group, so it stops last and sends the spans of the shutdown too.
            let exporter = try OTLPSpanExporter(configuration: wiring.configuration.tracing, logger: wiring.logger)
            SpanRecorder.bootstrap { exporter.record($0) }
            services.insert(exporter, at: 0)
        }
        if let port = try resolvedOperationsPort() {
            let operations = IngressOperations(readiness: wiring.operations.readiness, metrics: { [operations = wiring.operations] in operations.metricsText() })
            services.insert(OperationsServer(host: wiring.configuration.ingress.host, port: port, operations: operations, logger: wiring.logger), at: 0)
        }
        try await runServiceGroup(services, logger: wiring.logger)
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
