internal import CRdKafka
import Foundation
import Logging
import Synchronization

/// The machinery behind `KafkaProducer`: the current librdkafka instance, the sends waiting for
/// delivery reports, and the poll thread that serves those reports, rebuilds the instance after a
/// fatal error and flushes at shutdown.
///
/// Kept apart from the public class so that the poll thread can hold it strongly while
/// `KafkaProducer.deinit` can still tell it to stop.
final class ProducerCore: Sendable {
    // MARK: - State

    /// One enqueued message waiting for its delivery report.
    private struct Delivery {
        var group: UInt64
        /// The instance it was enqueued on; a rebuild fails every message of the old one.
        var generation: UInt64
    }

    /// One `send` call (one message or a batch): done when everything was enqueued and every
    /// enqueued message has its delivery report.
    private struct Group {
        var remaining = 0
        var enqueuedAll = false
        var errors: [KafkaError] = []
        var delivered = 0
        var lastPosition: KafkaRecordPosition?
        var continuation: CheckedContinuation<KafkaRecordPosition?, any Error>?

        var isComplete: Bool { enqueuedAll && remaining == 0 }

        var result: Result<KafkaRecordPosition?, any Error> {
            if !errors.isEmpty { return .failure(BatchFailure(delivered: delivered, errors: errors)) }
            return .success(lastPosition)
        }
    }

    private enum Phase {
        /// No poll thread yet (nothing was sent and `run()` was not called).
        case idle
        case running
        /// Stop was requested; the poll thread flushes for up to this long, then destroys the instance.
        case stopping(flushTimeoutMs: Int)
        case stopped
        /// The instance hit a fatal error and recovery is off: every send fails with it, and
        /// `run()` throws it so that the process exits and is restarted.
        case failed(KafkaError)
    }

    private struct State {
        var phase = Phase.idle
        var client: RDKafkaClient?
        var nextMessageID: UInt = 1
        var nextGroupID: UInt64 = 1
        var deliveries: [UInt: Delivery] = [:]
        /// Message ids with their local deadline, in enqueue order (so deadlines only grow).
        var deadlines = DeadlineQueue()
        var groups: [UInt64: Group] = [:]

        /// Records one message's outcome; returns the continuation to resume if its group is done.
        /// - Parameter wasEnqueued: false for a message that never reached librdkafka (so it was
        ///   never counted in `remaining`).
        mutating func settle(
            group id: UInt64, with result: Result<KafkaRecordPosition, KafkaError>, wasEnqueued: Bool = true
        ) -> (CheckedContinuation<KafkaRecordPosition?, any Error>, Result<KafkaRecordPosition?, any Error>)? {
            guard var group = groups[id] else { return nil }
            if wasEnqueued {
                group.remaining -= 1
            }
            switch result {
            case .success(let position):
                group.lastPosition = position
                group.delivered += 1
            case .failure(let error): group.errors.append(error)
            }
            if group.isComplete, let continuation = group.continuation {
                groups[id] = nil
                return (continuation, group.result)
            }
            groups[id] = group
            return nil
        }
    }

    /// How a send of several messages failed: how many were acknowledged, and every error.
    struct BatchFailure: Error {
        var delivered: Int
        var errors: [KafkaError]
    }

    // MARK: - Properties

    let configuration: KafkaProducerConfiguration
    let logger: Logger
    private let state = Mutex(State())
    private let stopped = CompletionLatch()
    /// When the current instance last saw the broker answer UNKNOWN_PRODUCER_ID.
    private let unknownProducerIDs = Mutex(UnknownProducerIDEvents())

    static let producerFenced = KafkaError.Code(RD_KAFKA_RESP_ERR_PRODUCER_FENCED)

    /// Recent UNKNOWN_PRODUCER_ID (or PRODUCER_FENCED) answers of one instance.
    private struct UnknownProducerIDEvents {
        var generation: UInt64 = 0
        var times: [ContinuousClock.Instant] = []

        /// A real Kafka broker that expired an idle producer's state answers this once and then
        /// accepts the bumped epoch; a broker that lost its state answers it on every retry.
        static let threshold = 3
        static let window: Duration = .seconds(10)

        mutating func record(generation: UInt64) {
            if generation != self.generation {
                self.generation = generation
                times = []
            }
            times.append(.now)
            if times.count > Self.threshold {
                times.removeFirst(times.count - Self.threshold)
            }
        }

        func isPersistent(generation: UInt64) -> Bool {
            guard generation == self.generation, times.count >= Self.threshold, let first = times.first else { return false }
            return ContinuousClock.now - first <= Self.window
        }
    }

    // MARK: - Life cycle

    init(configuration: KafkaProducerConfiguration, logger: Logger) throws(KafkaError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        let client = try makeClient(generation: 1)
        state.withLock { $0.client = client }
    }

    private func makeClient(generation: UInt64) throws(KafkaError) -> RDKafkaClient {
        let callbacks = RDKafkaCallbacks(
            logger: logger,
            onDelivery: { [weak self] id, result in
                // A dev broker that lost track of this producer after an epoch bump (librdkafka
                // bumps it when a message timed out) refuses every later record as fenced; like
                // UNKNOWN_PRODUCER_ID, only a new producer id helps.
                if case .failure(let error) = result, error.code == Self.producerFenced {
                    self?.unknownProducerIDs.withLock { $0.record(generation: generation) }
                }
                self?.delivered(messageID: id, result: result)
            },
            onUnknownProducerID: { [weak self] in
                self?.unknownProducerIDs.withLock { $0.record(generation: generation) }
            }
        )
        return try RDKafkaClient.make(
            kind: .producer, properties: configuration.properties, callbacks: callbacks, generation: generation
        )
    }

    /// Starts the poll thread unless it runs already.
    ///
    /// - Throws: `KafkaError` (`destroyed`) once the producer was stopped.
    func start() throws(KafkaError) {
        let shouldStart = try state.withLock { state throws(KafkaError) -> Bool in
            switch state.phase {
            case .idle:
                state.phase = .running
                return true
            case .running:
                return false
            case .stopping, .stopped:
                throw Self.destroyedError
            case .failed(let error):
                throw error
            }
        }
        if shouldStart {
            DedicatedThread.start(name: "sluice-kafka-producer") { self.pollLoop() }
        }
    }

    /// Asks the poll thread to flush (for up to `flushTimeoutMs`) and stop; starts it first if
    /// it never ran, so the instance is still destroyed on a dedicated thread.
    func requestStop(flushTimeoutMs: Int) {
        let shouldStart = state.withLock { state -> Bool in
            switch state.phase {
            case .idle:
                state.phase = .stopping(flushTimeoutMs: flushTimeoutMs)
                return true
            case .running:
                state.phase = .stopping(flushTimeoutMs: flushTimeoutMs)
                return false
            case .stopping, .stopped, .failed:
                return false
            }
        }
        if shouldStart {
            DedicatedThread.start(name: "sluice-kafka-producer") { self.pollLoop() }
        }
    }

    /// Returns once the poll thread has flushed and destroyed the instance.
    func waitUntilStopped() async {
        await stopped.wait()
    }

    /// The fatal error that stopped the producer, if one did.
    var failure: KafkaError? {
        state.withLock { state in
            if case .failed(let error) = state.phase { return error }
            return nil
        }
    }

    static let destroyedError = KafkaError(
        code: .destroyed, message: "the Kafka producer was shut down", isRetriable: false
    )

    // MARK: - Sending

    /// Enqueues every message, then waits for all their delivery reports.
    ///
    /// - Returns: the position of the last acknowledged message.
    /// - Throws: the first `KafkaError`; every message was still attempted.
    func send(_ messages: some Collection<KafkaProducerMessage>) async throws -> KafkaRecordPosition? {
        try start()
        let groupID = state.withLock { state -> UInt64 in
            let id = state.nextGroupID
            state.nextGroupID += 1
            state.groups[id] = Group()
            return id
        }
        for message in messages {
            await enqueue(message, group: groupID)
        }
        return try await withCheckedThrowingContinuation { continuation in
            let result = state.withLock { state -> Result<KafkaRecordPosition?, any Error>? in
                guard var group = state.groups[groupID] else { return .failure(Self.destroyedError) }
                group.enqueuedAll = true
                if group.isComplete {
                    state.groups[groupID] = nil
                    return group.result
                }
                group.continuation = continuation
                state.groups[groupID] = group
                return nil
            }
            if let result {
                continuation.resume(with: result)
            }
        }
    }

    /// Hands one message to librdkafka, waiting out a full queue (or an instance being rebuilt
    /// after a fatal error) for up to `messageTimeoutMs`; never drops it silently.
    private func enqueue(_ message: KafkaProducerMessage, group: UInt64) async {
        let deadline = ContinuousClock.now + .milliseconds(configuration.messageTimeoutMs)
        var headers = RDKafkaRecords.makeHeaders(message.headers)
        defer {
            if let headers { rd_kafka_headers_destroy(headers) }
        }
        var backoffMs = 1

        while true {
            // Register before producing: the report may be served before produceva returns.
            let lease = state.withLock { state -> (client: RDKafkaClient, id: UInt)? in
                guard case .running = state.phase, let client = state.client else { return nil }
                client.users.add(1, ordering: .sequentiallyConsistent)
                let id = state.nextMessageID
                state.nextMessageID = id == UInt.max ? 1 : id + 1
                state.deliveries[id] = Delivery(group: group, generation: client.generation)
                state.deadlines.append(id: id, deadline: ContinuousClock.now + self.deliveryDeadline)
                state.groups[group]?.remaining += 1
                return (client, id)
            }
            guard let lease else {
                settleFailed(group: group, error: failure ?? Self.destroyedError)
                return
            }

            let error = produce(message, headers: headers, on: lease.client, id: lease.id)
            lease.client.users.subtract(1, ordering: .sequentiallyConsistent)
            guard let error else {
                headers = nil  // librdkafka owns them now
                return
            }

            // Not enqueued, so no report will come for this id (unless a rebuild already failed it).
            let wasPending = state.withLock { state -> Bool in
                guard state.deliveries.removeValue(forKey: lease.id) != nil else { return false }
                state.groups[group]?.remaining -= 1
                return true
            }
            let waitable = error.code == .queueFull || error.code == .fatal || error.isFatal
            if waitable && ContinuousClock.now < deadline && !Task.isCancelled {
                // A cancelled sender stops here: its sleep would return at once and spin.
                do {
                    try await Task.sleep(for: .milliseconds(backoffMs))
                    backoffMs = min(backoffMs * 2, 50)
                    continue
                } catch {}
            }
            if wasPending {
                settleFailed(group: group, error: error)
            }
            return
        }
    }

    /// Calls `rd_kafka_produceva` (through the shim); nil means enqueued.
    private func produce(
        _ message: KafkaProducerMessage, headers: OpaquePointer?, on client: RDKafkaClient, id: UInt
    ) -> KafkaError? {
        let opaque = UnsafeMutableRawPointer(bitPattern: id)
        let error: OpaquePointer? = message.value.withUnsafeBytes { value in
            if let key = message.key {
                return key.withUnsafeBytes { key in
                    sluice_produce(
                        client.handle.pointer, message.topic, key.baseAddress, key.count, 1,
                        value.baseAddress, value.count, headers, opaque
                    )
                }
            }
            return sluice_produce(
                client.handle.pointer, message.topic, nil, 0, 0, value.baseAddress, value.count, headers, opaque
            )
        }
        return error.map { KafkaError(consuming: $0, context: "producing to \(message.topic) failed") }
    }

    /// Records a failure that has no delivery report (the message never reached librdkafka).
    private func settleFailed(group: UInt64, error: KafkaError) {
        let resume = state.withLock { state in
            state.settle(group: group, with: .failure(error), wasEnqueued: false)
        }
        if let (continuation, result) = resume {
            continuation.resume(with: result)
        }
    }

    /// Delivery report callback (poll thread).
    private func delivered(messageID: UInt, result: Result<KafkaRecordPosition, KafkaError>) {
        let resume = state.withLock { state in
            state.deliveries.removeValue(forKey: messageID).flatMap { state.settle(group: $0.group, with: result) }
        }
        if let (continuation, result) = resume {
            continuation.resume(with: result)
        }
    }

    // MARK: - Poll thread

    /// Serves delivery reports until stop is requested, rebuilding the instance after fatal errors.
    private func pollLoop() {
        while true {
            let (client, flushTimeoutMs) = state.withLock { state -> (RDKafkaClient?, Int?) in
                switch state.phase {
                case .stopping(let flushTimeoutMs): return (state.client, flushTimeoutMs)
                case .failed: return (state.client, 0)
                default: return (state.client, nil)
                }
            }
            guard let client else { break }
            if let flushTimeoutMs {
                shutDown(client, flushTimeoutMs: flushTimeoutMs)
                break
            }
            rd_kafka_poll(client.handle.pointer, 100)
            expireOverdueDeliveries()
            // At most one rebuild per round: `client` is retired by it.
            _ = checkFatalError(client) || (configuration.recoversFromLostBrokerState && checkUnknownProducerID(client))
        }
        stopped.signal()
    }

    /// Fails sends whose delivery report is overdue.
    ///
    /// librdkafka scans for timed-out messages only once a second, so its own `_MSG_TIMED_OUT`
    /// can come up to a second after `message.timeout.ms`; the ingress needs the bound to hold
    /// (a dead broker must become a 503 in time). A report that still comes later is ignored.
    /// The outcome is the same as librdkafka's timeout: the record may or may not be stored.
    private func expireOverdueDeliveries() {
        let now = ContinuousClock.now
        let resumes = state.withLock { state in
            var resumes: [(CheckedContinuation<KafkaRecordPosition?, any Error>, Result<KafkaRecordPosition?, any Error>)] = []
            while let (id, deadline) = state.deadlines.first {
                guard let delivery = state.deliveries[id] else {
                    state.deadlines.removeFirst()  // already settled
                    continue
                }
                guard deadline <= now else { break }
                state.deadlines.removeFirst()
                state.deliveries[id] = nil
                if let resume = state.settle(group: delivery.group, with: .failure(Self.overdueError)) {
                    resumes.append(resume)
                }
            }
            return resumes
        }
        for (continuation, result) in resumes {
            continuation.resume(with: result)
        }
    }

    /// `messageTimeoutMs` plus a little, so librdkafka's own report usually wins.
    private var deliveryDeadline: Duration {
        .milliseconds(configuration.messageTimeoutMs + 250)
    }

    static let overdueError = KafkaError(
        code: .messageTimedOut,
        message: "no broker acknowledged the message within message.timeout.ms; it may or may not have been stored",
        isRetriable: true
    )

    /// After `rd_kafka_fatal_error` the instance refuses every produce. Fail what it holds with
    /// a retriable error and carry on with a fresh instance.
    /// - Returns: whether the instance was replaced.
    private func checkFatalError(_ client: RDKafkaClient) -> Bool {
        var reason = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(client.handle.pointer, &reason, reason.count)
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return false }
        let text = String(decoding: reason.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
        guard configuration.recoversFromLostBrokerState else {
            fail(KafkaError(
                code: .fatal, message: "fatal Kafka producer error (\(KafkaError.Code(err))): \(text)",
                isRetriable: false, isFatal: true))
            return true
        }
        return rebuild(client, code: KafkaError.Code(err), reason: text)
    }

    /// Stops sending for good after a fatal error: a producer that carried on would refuse
    /// every record while the process looked healthy. Sends in flight fail (their records may
    /// or may not be stored), later ones fail at once, and `KafkaProducer.run()` throws.
    private func fail(_ error: KafkaError) {
        logger.critical(
            "Kafka producer hit a fatal error; stopping so that the process can be restarted",
            metadata: ["error": "\(error)"])
        state.withLock { state in
            if case .stopped = state.phase { return }
            state.phase = .failed(error)
        }
    }

    /// A broker that lost its state (the in-memory dev broker after a restart) answers every
    /// produce with UNKNOWN_PRODUCER_ID. librdkafka's idempotent producer then only bumps its
    /// epoch locally and retries, forever; no error surfaces, messages just time out. Only a new
    /// producer id helps, which means a new instance.
    ///
    /// - Returns: whether the instance was replaced.
    private func checkUnknownProducerID(_ client: RDKafkaClient) -> Bool {
        guard unknownProducerIDs.withLock({ $0.isPersistent(generation: client.generation) }) else { return false }
        return rebuild(
            client, code: KafkaError.Code(RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID),
            reason: "the broker no longer knows this producer id (restarted without its state?)"
        )
    }

    /// Replaces the instance: in-flight messages of the old one fail with a retriable error
    /// (they may or may not have been stored), later sends go to the new one.
    ///
    /// - Returns: whether the instance was replaced (false if a fresh one could not be made).
    private func rebuild(_ client: RDKafkaClient, code: KafkaError.Code, reason: String) -> Bool {
        logger.error(
            "Kafka producer instance is unusable; failing its in-flight messages and rebuilding it",
            metadata: ["kafka.error": "\(code)", "reason": "\(reason)"]
        )
        let fresh: RDKafkaClient
        do {
            fresh = try makeClient(generation: client.generation + 1)
        } catch {
            logger.error("Rebuilding the Kafka producer failed; retrying", metadata: ["error": "\(error)"])
            Thread.sleep(forTimeInterval: 1)
            return false
        }

        let failure = KafkaError(
            code: code,
            message: "the Kafka producer instance failed (\(reason)) and was rebuilt; the message may or may not have been stored",
            isRetriable: true,
            isFatal: true
        )
        state.withLock { $0.client = fresh }
        retire(client, failure: failure)
        return true
    }

    /// Purges and destroys an instance that is no longer the current one, on its own thread so
    /// the poll thread goes on serving the new instance.
    ///
    /// Its messages are settled by its own delivery reports first: one the broker acknowledged
    /// before the purge still reports success (a send must never be told it failed when it was
    /// stored); purged ones report `_PURGE_*`. Whatever has no report after that fails with
    /// `failure` (stored or not, nobody can say).
    private func retire(_ client: RDKafkaClient, failure: KafkaError) {
        DedicatedThread.start(name: "sluice-kafka-producer-retire") { [self] in
            waitForUsers(client)
            let rk = client.handle.pointer
            rd_kafka_purge(rk, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            _ = rd_kafka_flush(rk, 2_000)
            let resumes = state.withLock { state in
                let stale = state.deliveries.filter { $0.value.generation == client.generation }
                return stale.compactMap { id, delivery in
                    state.deliveries[id] = nil
                    return state.settle(group: delivery.group, with: .failure(failure))
                }
            }
            for (continuation, result) in resumes {
                continuation.resume(with: result)
            }
            client.destroy()
        }
    }

    /// Flushes (bounded), fails whatever is left, destroys the instance.
    private func shutDown(_ client: RDKafkaClient, flushTimeoutMs: Int) {
        // Sends now see `.stopping` and refuse; wait for those already inside produceva.
        waitForUsers(client)
        let rk = client.handle.pointer
        if rd_kafka_flush(rk, Int32(clamping: flushTimeoutMs)) != RD_KAFKA_RESP_ERR_NO_ERROR {
            let left = rd_kafka_outq_len(rk)
            // With no flush time (deinit) the senders are gone already; nobody waits for these.
            logger.log(
                level: flushTimeoutMs > 0 ? .warning : .debug,
                "Kafka producer flush timed out; purging what is left", metadata: ["messages": "\(left)"]
            )
            rd_kafka_purge(rk, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            // Serves the purge reports, so their sends fail with _PURGE_* now.
            _ = rd_kafka_flush(rk, 500)
        }
        let resumes = state.withLock { state in
            if case .failed = state.phase {} else { state.phase = .stopped }
            state.client = nil
            let left = state.deliveries
            state.deliveries = [:]
            var error = Self.destroyedError
            if case .failed(let fatal) = state.phase { error = fatal }
            return left.compactMap { state.settle(group: $0.value.group, with: .failure(error)) }
        }
        for (continuation, result) in resumes {
            continuation.resume(with: result)
        }
        client.destroy()
    }

    private func waitForUsers(_ client: RDKafkaClient) {
        while client.users.load(ordering: .sequentiallyConsistent) > 0 {
            Thread.sleep(forTimeInterval: 0.001)
        }
    }
}
