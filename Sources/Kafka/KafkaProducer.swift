import Logging
import ServiceLifecycle

/// Idempotent (`enable.idempotence=true`, `acks=all`) producer whose sends return only after
/// the broker acknowledged.
///
/// Delivery reports are served by a dedicated poll thread. It starts on the first `send` or on
/// `run()`, whichever comes first, so sending works with or without `run()`; `run()` adds the
/// orderly end (flush at graceful shutdown).
///
/// A fatal error (e.g. a fatal idempotence error) stops the producer: sends fail and `run()`
/// throws, so the process exits and its supervisor restarts it. With
/// `recoversFromLostBrokerState` (dev setups), an unusable instance — a fatal error, or a broker
/// that keeps answering UNKNOWN_PRODUCER_ID because it restarted without its state, as the
/// in-memory dev broker does — is replaced instead: its messages in flight settle by their own
/// reports or fail with a retriable error, and later sends go to a fresh instance. A send never waits much longer than
/// `messageTimeoutMs` for its delivery report (librdkafka checks its own timeout only once a
/// second, so the producer also keeps a deadline of its own).
public final class KafkaProducer: Service, Sendable {
    // MARK: - Properties

    private let core: ProducerCore

    /// How long `run()` flushes at shutdown before purging what is left.
    static let shutdownFlushTimeoutMs = 10_000

    // MARK: - Life cycle

    /// Creates the librdkafka instance (no network traffic yet).
    ///
    /// - Throws: `KafkaError` (`invalidArgument`) when librdkafka rejects a property.
    public init(configuration: KafkaProducerConfiguration, logger: Logger) throws {
        core = try ProducerCore(configuration: configuration, logger: logger)
    }

    deinit {
        // Nothing can be in flight here (every send holds `self`); this only frees the instance.
        core.requestStop(flushTimeoutMs: 0)
    }

    // MARK: - Sending

    /// Sends one record and returns where the broker stored it.
    ///
    /// Never blocks the calling thread: a full local queue is waited out asynchronously for up
    /// to `messageTimeoutMs`. Cancelling the calling task does not unsend an enqueued record,
    /// so the call still waits for its delivery report (bounded by `messageTimeoutMs`).
    ///
    /// - Throws: `KafkaError`; `isRetriable` for timeouts, a dead broker, a full queue or a
    ///   rebuilt instance; `destroyed` after shutdown.
    public func send(_ message: KafkaProducerMessage) async throws -> KafkaRecordPosition {
        let position = try await Self.firstError { try await core.send(CollectionOfOne(message)) }
        guard let position else {
            throw ProducerCore.destroyedError
        }
        return position
    }

    /// Sends all records (in order, so records of one key keep their order) and returns when
    /// every one is acknowledged.
    ///
    /// - Throws: the first `KafkaError`; every record was still attempted.
    public func send(_ messages: [KafkaProducerMessage]) async throws {
        guard !messages.isEmpty else { return }
        _ = try await Self.firstError { try await core.send(messages) }
    }

    /// Sends all records like `send(_:)`, and says how many the broker acknowledged and how
    /// the others failed, for a caller that must tell "none stored" from "some stored".
    public func sendReportingEach(_ messages: [KafkaProducerMessage]) async -> KafkaBatchOutcome {
        guard !messages.isEmpty else { return KafkaBatchOutcome(delivered: 0, failures: []) }
        do {
            _ = try await core.send(messages)
            return KafkaBatchOutcome(delivered: messages.count, failures: [])
        } catch let failure as ProducerCore.BatchFailure {
            return KafkaBatchOutcome(delivered: failure.delivered, failures: failure.errors)
        } catch let error as KafkaError {
            return KafkaBatchOutcome(delivered: 0, failures: [error])
        } catch {
            return KafkaBatchOutcome(delivered: 0, failures: [KafkaError(code: .state, message: "\(error)", isRetriable: true)])
        }
    }

    /// The first `KafkaError` of a failed batch, as the single-error API promises.
    private static func firstError<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as ProducerCore.BatchFailure {
            throw failure.errors.first ?? ProducerCore.destroyedError
        }
    }

    // MARK: - Service

    /// Polls delivery reports until graceful shutdown (or cancellation), then flushes (up to
    /// 10 s; what is left fails with a `_PURGE_*` error) and destroys the instance. Sends after
    /// that throw `destroyed`.
    ///
    /// - Throws: the fatal `KafkaError` that stopped the producer (only when
    ///   `recoversFromLostBrokerState` is off; with it on, a fresh instance takes over).
    public func run() async throws {
        do {
            try core.start()
        } catch {
            return  // already stopped: nothing to run
        }
        let core = self.core
        await withTaskCancellationOrGracefulShutdownHandler {
            await core.waitUntilStopped()
        } onCancelOrGracefulShutdown: {
            core.requestStop(flushTimeoutMs: Self.shutdownFlushTimeoutMs)
        }
        if let failure = core.failure {
            throw failure
        }
    }
}
