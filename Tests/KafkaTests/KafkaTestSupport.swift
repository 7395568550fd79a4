import Foundation
import Logging
import ServiceLifecycle
import Testing

@testable import Kafka

/// Shared helpers for the Kafka tests: the broker address, unique names, running services and
/// collecting messages with a deadline.
enum KafkaTestSupport {
    // MARK: - Broker

    /// The dev broker that `make test` started (`SLUICE_TEST_BOOTSTRAP`).
    ///
    /// Records a failure (instead of skipping) when it is missing, so a run without a broker
    /// cannot pass by testing nothing.
    static func bootstrapServers() throws -> String {
        guard let value = ProcessInfo.processInfo.environment["SLUICE_TEST_BOOTSTRAP"], !value.isEmpty else {
            Issue.record(
                "SLUICE_TEST_BOOTSTRAP is not set: run the tests with `make test` (it starts the dev broker), or start tansu and export SLUICE_TEST_BOOTSTRAP=127.0.0.1:PORT"
            )
            throw MissingBroker()
        }
        return value
    }

    struct MissingBroker: Error {}

    // MARK: - Names and configuration

    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    static let logger: Logger = {
        var logger = Logger(label: "sluice.kafka.tests")
        // SLUICE_TEST_LOG_LEVEL=debug (with SLUICE_KAFKA_DEBUG=eos,msg,…) to see librdkafka's side.
        logger.logLevel = ProcessInfo.processInfo.environment["SLUICE_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()

    /// A consumer configuration tuned for the dev broker (its group joins wait in proportion to
    /// the session timeout).
    static func consumerConfiguration(bootstrap: String, group: String, topics: [String]) -> KafkaConsumerConfiguration {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrap, groupID: group, topics: topics)
        configuration.sessionTimeoutMs = 6_000
        configuration.heartbeatIntervalMs = 1_000
        configuration.autoCommitIntervalMs = 200
        return configuration
    }

    /// librdkafka `debug` contexts from SLUICE_KAFKA_DEBUG, for diagnosing a failing test.
    static var debugProperties: [String: String] {
        ProcessInfo.processInfo.environment["SLUICE_KAFKA_DEBUG"].map { ["debug": $0] } ?? [:]
    }

    /// Waits (polling every 50 ms) until `condition` holds; false if it never did in time.
    static func eventually(within timeout: Duration, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    // MARK: - Collecting

    /// Reads up to `count` messages, giving up at the deadline; returns what it got.
    static func collect(
        from consumer: KafkaConsumer, count: Int, within timeout: Duration, markDone: Bool,
        onEach: @escaping @Sendable (KafkaMessage) -> Void = { _ in }
    ) async -> [KafkaMessage] {
        await withTaskGroup(of: [KafkaMessage]?.self) { group in
            group.addTask {
                var collected: [KafkaMessage] = []
                guard count > 0 else { return collected }
                for await message in consumer.messages {
                    collected.append(message)
                    onEach(message)
                    if markDone {
                        consumer.markDone(message)
                    }
                    if collected.count == count { break }
                }
                return collected
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            var result: [KafkaMessage] = []
            while let finished = await group.next() {
                if let finished {
                    result = finished
                }
                group.cancelAll()
            }
            return result
        }
    }
}

// MARK: - Running services

/// Runs one service in its own `ServiceGroup` so a test can trigger graceful shutdown.
final class RunningService: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    init(_ service: some Service) {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: service)], logger: KafkaTestSupport.logger
            )
        )
        self.group = group
        self.task = Task { try await group.run() }
    }

    /// Triggers graceful shutdown and waits for the service to finish.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
