internal import CRdKafka
import Foundation
import Logging
import Synchronization

/// The machinery behind `KafkaConsumer`: the poll thread, the buffer between it and the
/// `messages` reader, per-partition offset bookkeeping, pause/resume and the shutdown drain.
///
/// Every librdkafka call on the consumer instance happens on the poll thread (including the
/// rebalance callback, which runs inside `rd_kafka_consumer_poll`/`rd_kafka_consumer_close`).
/// Readers and `markDone` only touch the state under the lock; the poll thread turns their
/// effects into `rd_kafka_offsets_store` and pause/resume calls within one poll interval.
final class ConsumerCore: Sendable {
    // MARK: - State

    enum Phase: Equatable, Sendable {
        /// `run()` not called yet.
        case idle
        case running
        /// Graceful shutdown: nothing more is handed out; waiting for handed-out messages.
        case draining
        case closed
    }

    /// The one reader suspended in `next()`.
    struct Waiter: Sendable {
        var id: UInt64
        var continuation: CheckedContinuation<KafkaMessage?, Never>
    }

    /// A message handed out from an assignment that has ended (revoked, lost or reset) and not
    /// yet handed back: it still counts against `maxOutstanding` until the app marks it done or
    /// releases it, so the app never holds more than the bound across rebalances.
    struct Orphan: Hashable, Sendable {
        var topicPartition: TopicPartition
        var offset: Int64
        var generation: UInt64
    }

    struct State: Sendable {
        let maxOutstanding: Int
        var phase = Phase.idle
        var client: RDKafkaClient?
        var trackers: [TopicPartition: PartitionTracker] = [:]
        var buffer = MessageBuffer()
        /// Handed out and neither marked done nor released (orphans included).
        var outstanding = 0
        var orphans: Set<Orphan> = []
        var waiter: Waiter?
        var nextWaiterID: UInt64 = 1
        /// Incremented for each assignment; 0 is never used (see `KafkaMessage(topic:…)`).
        var generation: UInt64 = 0
        var paused = false
        /// Whether the group gave this member an assignment (possibly empty) since it last lost
        /// one: it has joined its group (`/readyz`).
        var joined = false
        /// Partitions whose watermark may have moved since the last `rd_kafka_offsets_store`.
        var dirty: Set<TopicPartition> = []
        var drainDeadline = ContinuousClock.now
        var runError: KafkaError?
        /// The poll thread waits for the reader to make room in the buffer.
        var pollerWaitsForSpace = false
        /// Since when the buffer has been full without the reader taking from it.
        var bufferFullSince: ContinuousClock.Instant?
        /// Records after each assigned partition's commit position, as of `lagSampledAt`.
        var lags: [TopicPartition: Int64] = [:]
        var lagSampledAt: ContinuousClock.Instant?

        init(maxOutstanding: Int) {
            self.maxOutstanding = maxOutstanding
        }

        /// How many fetched messages may wait in the buffer: as many as may be handed out.
        var bufferCapacity: Int { maxOutstanding }

        /// True (once) when the poll thread waits for room and there is some now.
        mutating func takeSpaceWakeup() -> Bool {
            guard pollerWaitsForSpace, buffer.count < bufferCapacity else { return false }
            pollerWaitsForSpace = false
            return true
        }

        /// Gives the front buffered message to the waiting reader, if there is room.
        mutating func handOut() -> (Waiter, KafkaMessage)? {
            guard phase == .running, outstanding < maxOutstanding, let waiter, !buffer.isEmpty,
                let message = buffer.popFirst()
            else { return nil }
            self.waiter = nil
            trackers[TopicPartition(topic: message.topic, partition: message.partition)]?.markHandedOut(offset: message.offset)
            outstanding += 1
            return (waiter, message)
        }

        /// Forgets a partition's bookkeeping (and its buffered messages) and tracks it anew.
        mutating func resetTracker(_ topicPartition: TopicPartition) {
            orphanHandedOut(topicPartition)
            generation += 1
            trackers[topicPartition] = PartitionTracker(generation: generation)
            buffer.removeAll(in: [topicPartition])
            dirty.remove(topicPartition)
        }

        /// The partition's handed-out messages outlive its tracker: they stay outstanding until
        /// the app hands them back.
        mutating func orphanHandedOut(_ topicPartition: TopicPartition) {
            guard let tracker = trackers[topicPartition] else { return }
            for offset in tracker.handedOutOffsets {
                orphans.insert(Orphan(topicPartition: topicPartition, offset: offset, generation: tracker.generation))
            }
        }

        /// Ends the reader's wait with nil (shutdown).
        mutating func takeWaiter() -> Waiter? {
            defer { waiter = nil }
            return waiter
        }

        /// Watermarks that differ from what was last stored, for `rd_kafka_offsets_store`.
        mutating func offsetsToStore(all: Bool) -> [(TopicPartition, Int64?)] {
            let candidates = all ? Set(trackers.keys) : dirty
            dirty.removeAll(keepingCapacity: true)
            var result: [(TopicPartition, Int64?)] = []
            for topicPartition in candidates {
                guard let watermark = trackers[topicPartition]?.watermark,
                    watermark != trackers[topicPartition]?.lastStored
                else { continue }
                trackers[topicPartition]?.lastStored = watermark
                result.append((topicPartition, watermark))
            }
            return result
        }
    }

    // MARK: - Properties

    let configuration: KafkaConsumerConfiguration
    let logger: Logger
    private let state: Mutex<State>
    private let closed = CompletionLatch()
    /// Wakes the poll thread when the reader made room in a full buffer.
    private let bufferSpace = DispatchSemaphore(value: 0)

    /// How long one `rd_kafka_consumer_poll` waits: short, so pause/resume and stored offsets
    /// follow `markDone` quickly, without spinning.
    static let pollTimeoutMs: Int32 = 100
    /// Bounds each synchronous commit: with the broker gone librdkafka would wait for a
    /// coordinator for a long time, and shutdown must not hang on it.
    static let commitTimeoutMs: Int32 = 5_000
    /// How long closing (final commit, leaving the group, destroying) may take before `run()`
    /// returns without it.
    static let closeTimeout: Duration = .seconds(15)
    /// How long a full buffer may wait for the reader before the partitions are paused. While
    /// it waits the poll thread does not poll (messages stay in librdkafka's own bounded
    /// prefetch queue). Pausing at once would throw that queue away and refetch it on resume:
    /// measured here, a fast reader then got about 4 000 messages/s instead of about 170 000.
    static let fullBufferGrace: Duration = .seconds(1)

    // MARK: - Life cycle

    init(configuration: KafkaConsumerConfiguration, logger: Logger) throws(KafkaError) {
        try configuration.validate()
        guard !configuration.topics.isEmpty else {
            throw KafkaError(code: .invalidArgument, message: "a Kafka consumer needs at least one topic", isRetriable: false)
        }
        guard configuration.maxOutstanding >= 1 else {
            throw KafkaError(code: .invalidArgument, message: "maxOutstanding must be at least 1", isRetriable: false)
        }
        self.configuration = configuration
        self.logger = logger
        self.state = Mutex(State(maxOutstanding: configuration.maxOutstanding))

        let callbacks = RDKafkaCallbacks(logger: logger, onRebalance: { [weak self] handle, err, partitions in
            self?.rebalance(handle.pointer, err, partitions.pointer)
        })
        let client = try RDKafkaClient.make(kind: .consumer, properties: configuration.properties, callbacks: callbacks)
        // Route logs, errors and rebalances to the consumer queue, served by consumer_poll.
        rd_kafka_poll_set_consumer(client.handle.pointer)
        state.withLock { $0.client = client }
    }

    /// Starts the poll thread.
    ///
    /// - Returns: false when the consumer was already shut down (nothing to run).
    /// - Throws: `KafkaError` (`state`) when `run()` is called twice.
    func start() throws(KafkaError) -> Bool {
        let client = try state.withLock { state throws(KafkaError) -> RDKafkaClient? in
            switch state.phase {
            case .idle:
                state.phase = .running
                return state.client
            case .running, .draining:
                throw KafkaError(code: .state, message: "KafkaConsumer.run() was called twice", isRetriable: false)
            case .closed:
                return nil
            }
        }
        guard let client else {
            closed.signal()
            return false
        }
        DedicatedThread.start(name: "sluice-kafka-consumer") { self.pollLoop(client) }
        return true
    }

    /// Stops handing out messages and lets the poll thread drain and close.
    ///
    /// - Parameter drain: wait up to `drainTimeoutMs` for handed-out messages (graceful
    ///   shutdown), or not at all (cancellation).
    func requestShutdown(drain: Bool) {
        let waiter = state.withLock { state -> Waiter? in
            let deadline = ContinuousClock.now + .milliseconds(drain ? configuration.drainTimeoutMs : 0)
            switch state.phase {
            case .idle:
                state.phase = .closed
            case .running:
                state.phase = .draining
                state.drainDeadline = deadline
            case .draining:
                state.drainDeadline = min(state.drainDeadline, deadline)
            case .closed:
                break
            }
            return state.takeWaiter()
        }
        waiter?.continuation.resume(returning: nil)
    }

    /// For `KafkaConsumer.deinit`: frees an instance whose `run()` never ran (on its own thread,
    /// since `rd_kafka_destroy` blocks).
    func releaseIfNotRunning() {
        let (client, waiter) = state.withLock { state -> (RDKafkaClient?, Waiter?) in
            guard state.phase == .idle || state.phase == .closed else { return (nil, nil) }
            state.phase = .closed
            defer { state.client = nil }
            return (state.client, state.takeWaiter())
        }
        waiter?.continuation.resume(returning: nil)
        if let client {
            DedicatedThread.start(name: "sluice-kafka-consumer-release") { client.destroy(skipConsumerClose: true) }
        }
    }

    /// Returns once the poll thread has committed, closed and destroyed the instance.
    func waitUntilClosed() async {
        await closed.wait()
    }

    /// Why the poll thread stopped early (subscribe failed), if it did.
    var runError: KafkaError? {
        state.withLock { $0.runError }
    }

    /// Counts for tests and metrics.
    var snapshot: (buffered: Int, outstanding: Int, paused: Bool, assigned: Int, phase: Phase) {
        state.withLock { ($0.buffer.count, $0.outstanding, $0.paused, $0.trackers.count, $0.phase) }
    }

    /// Per assigned partition, how many records lie after its commit position (sampled about
    /// once a second on the poll thread).
    var lags: [TopicPartition: Int64] {
        state.withLock { $0.lags }
    }

    /// Whether the member has joined its group (see `State.joined`).
    var joined: Bool {
        state.withLock { $0.joined }
    }

    // MARK: - Reader side

    /// The next message for the one reader; nil at shutdown or when the reading task is cancelled.
    func next() async -> KafkaMessage? {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<KafkaMessage?, Never>) in
                let (handout, wakePoller) = state.withLock { state -> ((Waiter, KafkaMessage?)?, Bool) in
                    let this = Waiter(id: id, continuation: continuation)
                    if state.phase == .draining || state.phase == .closed || Task.isCancelled {
                        return ((this, nil), false)
                    }
                    guard state.waiter == nil else {
                        assertionFailure("KafkaConsumer.messages supports one reader only")
                        return ((this, nil), false)
                    }
                    state.waiter = this
                    let handout = state.handOut().map { ($0.0, Optional($0.1)) }
                    return (handout, state.takeSpaceWakeup())
                }
                if wakePoller {
                    bufferSpace.signal()
                }
                if let (waiter, message) = handout {
                    waiter.continuation.resume(returning: message)
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard state.waiter?.id == id else { return nil }
                return state.takeWaiter()
            }
            waiter?.continuation.resume(returning: nil)
        }
    }

    /// Records that the app finished `message`; the poll thread stores the new watermark.
    func markDone(_ message: KafkaMessage) {
        handBack(message, finished: true)
    }

    /// The app gives `message` up unfinished: it no longer counts as outstanding, and its offset
    /// (with every later one of its partition) stays uncommitted, so it is read again after the
    /// next rebalance or restart.
    func release(_ message: KafkaMessage) {
        handBack(message, finished: false)
    }

    /// Whether `message` still belongs to this member's current assignment of its partition.
    func isCurrent(_ message: KafkaMessage) -> Bool {
        let topicPartition = TopicPartition(topic: message.topic, partition: message.partition)
        return state.withLock { state in
            message.assignmentGeneration != 0 && state.trackers[topicPartition]?.generation == message.assignmentGeneration
        }
    }

    private func handBack(_ message: KafkaMessage, finished: Bool) {
        let topicPartition = TopicPartition(topic: message.topic, partition: message.partition)
        let (handout, wakePoller) = state.withLock { state -> ((Waiter, KafkaMessage)?, Bool) in
            guard message.assignmentGeneration != 0 else { return (nil, false) }
            if state.trackers[topicPartition]?.generation == message.assignmentGeneration {
                if finished {
                    guard let result = state.trackers[topicPartition]?.markDone(offset: message.offset),
                        case .marked(let watermarkMoved) = result
                    else { return (nil, false) }
                    if watermarkMoved {
                        state.dirty.insert(topicPartition)
                    }
                } else {
                    guard state.trackers[topicPartition]?.release(offset: message.offset) == true else { return (nil, false) }
                }
            } else {
                // From an assignment that has ended: only the outstanding count changes.
                let orphan = Orphan(topicPartition: topicPartition, offset: message.offset, generation: message.assignmentGeneration)
                guard state.orphans.remove(orphan) != nil else { return (nil, false) }
            }
            state.outstanding -= 1
            return (state.handOut(), state.takeSpaceWakeup())
        }
        if wakePoller {
            bufferSpace.signal()
        }
        if let (waiter, message) = handout {
            waiter.continuation.resume(returning: message)
        }
    }

    // MARK: - Poll thread

    private func pollLoop(_ client: RDKafkaClient) {
        let rk = client.handle.pointer
        if let error = subscribe(rk) {
            logger.error("Kafka consumer could not subscribe", metadata: ["error": "\(error)"])
            let waiter = state.withLock { state -> Waiter? in
                state.runError = error
                state.phase = .closed
                state.client = nil
                return state.takeWaiter()
            }
            waiter?.continuation.resume(returning: nil)
            client.destroy(skipConsumerClose: true)
            closed.signal()
            return
        }

        while true {
            switch nextStep() {
            case .stop:
                drain(rk)
                close(client)
                return
            case .poll:
                pollOnce(rk)
            case .waitForSpace:
                _ = bufferSpace.wait(timeout: .now() + .milliseconds(Int(Self.pollTimeoutMs)))
                maintain(rk)
            }
        }
    }

    private enum Step {
        case stop
        case poll
        /// The buffer is full: let the reader make room before taking more from librdkafka.
        case waitForSpace
    }

    private func nextStep() -> Step {
        state.withLock { state in
            guard state.phase == .running else { return .stop }
            guard state.buffer.count >= state.bufferCapacity else {
                state.bufferFullSince = nil
                return .poll
            }
            // Paused, nothing more arrives: keep polling so rebalances are served and the
            // member is not evicted.
            if state.paused { return .poll }
            if state.bufferFullSince == nil {
                state.bufferFullSince = .now
            }
            state.pollerWaitsForSpace = true
            return .waitForSpace
        }
    }

    private func subscribe(_ rk: OpaquePointer) -> KafkaError? {
        let topics = configuration.topics.map { (TopicPartition(topic: $0, partition: sluice_partition_unassigned()), Int64?.none) }
        let err = RDKafkaPartitionList.with(topics) { rd_kafka_subscribe(rk, $0) }
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else {
            logger.info("Kafka consumer subscribed", metadata: ["topics": "\(configuration.topics)", "group": "\(configuration.groupID)"])
            return nil
        }
        return KafkaError(err, context: "subscribing to \(configuration.topics)")
    }

    /// One `rd_kafka_consumer_poll` (which also serves rebalances and errors), then offsets and
    /// pause/resume. Polling continues while paused, so the member stays in the group.
    private func pollOnce(_ rk: OpaquePointer) {
        if let message = rd_kafka_consumer_poll(rk, Self.pollTimeoutMs) {
            defer { rd_kafka_message_destroy(message) }
            if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                accept(message, rk)
            } else if message.pointee.err == RD_KAFKA_RESP_ERR__FATAL {
                failFatally(rk)
            } else {
                let error = KafkaError(message.pointee.err, context: "consumer")
                logger.log(level: error.isRetriable ? .debug : .warning, "Kafka consumer error event", metadata: ["error": "\(error)"])
            }
        }
        maintain(rk)
    }

    /// A fatal error (e.g. this member was fenced) leaves the instance unusable: a consumer
    /// that carried on would look alive and do nothing. Stop at once, without waiting for
    /// handed-out messages (their offsets stay uncommitted), and let `run()` throw, so the
    /// process exits non-zero and its supervisor restarts it.
    private func failFatally(_ rk: OpaquePointer) {
        var reason = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(rk, &reason, reason.count)
        let text = String(decoding: reason.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
        let error = KafkaError(code: .fatal, message: "fatal Kafka consumer error (\(KafkaError.Code(code))): \(text)", isRetriable: false, isFatal: true)
        logger.critical("Kafka consumer hit a fatal error; stopping so that the process can be restarted", metadata: ["error": "\(error)"])
        let waiter = state.withLock { state -> Waiter? in
            if state.runError == nil { state.runError = error }
            if state.phase == .running || state.phase == .draining {
                state.phase = .draining
                state.drainDeadline = .now
            }
            return state.takeWaiter()
        }
        waiter?.continuation.resume(returning: nil)
    }

    /// How long a skip in a partition's offsets is read again before it is taken as a real gap
    /// (see `PartitionTracker.checkSkip`).
    static let skipConfirmation: Duration = .seconds(1)

    /// Tracks and buffers one fetched message (dropped while draining: never handed out, so its
    /// offset stays uncommitted and it is read again).
    ///
    /// A message further on than the one expected next is not taken: the partition is read
    /// again from the expected offset until the skip has persisted for `skipConfirmation`, so a
    /// broker that answered a fetch before an earlier batch was readable loses no record.
    private func accept(_ raw: UnsafeMutablePointer<rd_kafka_message_t>, _ rk: OpaquePointer) {
        var message = RDKafkaRecords.message(from: raw, generation: 0)
        let topicPartition = TopicPartition(topic: message.topic, partition: message.partition)
        var resetFrom: Int64?
        var verdict = PartitionTracker.SkipVerdict.inOrder
        let handout = state.withLock { state -> (Waiter, KafkaMessage)? in
            guard state.phase == .running, state.trackers[topicPartition] != nil else { return nil }
            verdict = state.trackers[topicPartition]?.checkSkip(offset: message.offset, now: .now, confirmAfter: Self.skipConfirmation) ?? .inOrder
            if case .rereadFrom = verdict { return nil }
            if state.trackers[topicPartition]?.append(offset: message.offset) == false {
                // The offset went backwards: the partition's log was reset (a broker that lost
                // its data, offset reset). Start its bookkeeping afresh; what was buffered or
                // handed out belongs to the old log and is forgotten.
                resetFrom = state.trackers[topicPartition]?.lastAppended
                state.resetTracker(topicPartition)
                _ = state.trackers[topicPartition]?.append(offset: message.offset)
            }
            message.assignmentGeneration = state.trackers[topicPartition]?.generation ?? 0
            state.buffer.append(message)
            return state.handOut()
        }
        switch verdict {
        case .inOrder:
            break
        case .rereadFrom(let expected):
            logger.info(
                "Kafka fetch skipped offsets; reading the partition again from the expected one",
                metadata: ["partition": "\(topicPartition)", "expected": "\(expected)", "got": "\(message.offset)"]
            )
            seek(rk, topicPartition, to: expected)
        case .confirmedGap(let expected):
            logger.warning(
                "Kafka partition has no records between two offsets; going on after the gap",
                metadata: ["partition": "\(topicPartition)", "from": "\(expected)", "to": "\(message.offset)"]
            )
        }
        if let resetFrom {
            logger.warning(
                "Kafka partition offsets went backwards; restarting its bookkeeping",
                metadata: ["partition": "\(topicPartition)", "from": "\(resetFrom)", "to": "\(message.offset)"]
            )
        }
        if let (waiter, message) = handout {
            waiter.continuation.resume(returning: message)
        }
    }

    /// Stores moved watermarks and pauses or resumes every assigned partition.
    private func maintain(_ rk: OpaquePointer) {
        let (stores, pause, partitions) = state.withLock { state -> ([(TopicPartition, Int64?)], Bool?, [TopicPartition]) in
            let stores = state.offsetsToStore(all: false)
            // Pause when the buffer has stayed full (the reader is at maxOutstanding or stopped
            // reading); resume once half of it was taken, so the reader does not run dry while
            // librdkafka fetches again. Pausing on every momentary high-water mark would throw
            // away librdkafka's prefetched messages each time (see `fullBufferGrace`).
            let bufferStuck = state.bufferFullSince.map { ContinuousClock.now - $0 >= Self.fullBufferGrace } ?? false
            let mustPause = state.phase != .running || bufferStuck
            let mayResume = state.phase == .running && state.buffer.count <= state.bufferCapacity / 2
            var change: Bool?
            if !state.paused, mustPause {
                state.paused = true
                change = true
            } else if state.paused, mayResume {
                state.paused = false
                change = false
            }
            return (stores, change, change == nil ? [] : Array(state.trackers.keys))
        }
        store(rk, stores)
        sampleLags(rk)
        if let pause, !partitions.isEmpty {
            let err = RDKafkaPartitionList.with(partitions.map { ($0, nil) }) { list in
                pause ? rd_kafka_pause_partitions(rk, list) : rd_kafka_resume_partitions(rk, list)
            }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.warning("Kafka consumer \(pause ? "pause" : "resume") failed", metadata: ["error": "\(KafkaError(err, context: ""))"])
            } else {
                logger.debug("Kafka consumer \(pause ? "paused" : "resumed")", metadata: ["partitions": "\(partitions.count)"])
            }
        }
    }

    /// Consumer lag per assigned partition: the high watermark librdkafka last saw for it (from
    /// its fetch responses, so it is as old as the last fetch: a paused partition's lag stays
    /// where it was) less the offset this member would commit (the lowest unfinished one, or the
    /// committed start before any message was read). Partitions with neither known are left out.
    private func sampleLags(_ rk: OpaquePointer) {
        let positions = state.withLock { state -> [(TopicPartition, Int64)]? in
            if let at = state.lagSampledAt, ContinuousClock.now - at < .seconds(1) { return nil }
            state.lagSampledAt = .now
            return state.trackers.compactMap { entry in
                (entry.value.watermark ?? entry.value.startOffset).map { (entry.key, $0) }
            }
        }
        guard let positions else { return }
        var lags: [TopicPartition: Int64] = [:]
        for (topicPartition, position) in positions {
            var low: Int64 = -1
            var high: Int64 = -1
            let err = rd_kafka_get_watermark_offsets(rk, topicPartition.topic, topicPartition.partition, &low, &high)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0, position >= 0 else { continue }
            lags[topicPartition] = max(0, high - max(position, low))
        }
        state.withLock { $0.lags = lags }
    }

    /// Moves the fetch position of one partition back to `offset` (asynchronously: messages
    /// already fetched from the old position are discarded by librdkafka).
    private func seek(_ rk: OpaquePointer, _ topicPartition: TopicPartition, to offset: Int64) {
        RDKafkaPartitionList.with([(topicPartition, offset)]) { list in
            if let error = rd_kafka_seek_partitions(rk, list, 0) {
                logger.warning("Kafka consumer seek failed", metadata: ["partition": "\(topicPartition)", "error": "\(KafkaError(consuming: error, context: ""))"])
            } else if let (_, err) = RDKafkaPartitionList.firstError(list), err != RD_KAFKA_RESP_ERR__IN_PROGRESS {
                // (_IN_PROGRESS: the previous seek to the same offset is still under way.)
                logger.warning("Kafka consumer seek failed", metadata: ["partition": "\(topicPartition)", "error": "\(KafkaError(err, context: ""))"])
            }
        }
    }

    private func store(_ rk: OpaquePointer, _ offsets: [(TopicPartition, Int64?)]) {
        guard !offsets.isEmpty else { return }
        RDKafkaPartitionList.with(offsets) { list in
            let err = rd_kafka_offsets_store(rk, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR || RDKafkaPartitionList.firstError(list) != nil {
                let detail = RDKafkaPartitionList.firstError(list).map { "\($0.0): \(KafkaError.Code($0.1))" } ?? ""
                logger.warning(
                    "Kafka consumer could not store offsets",
                    metadata: ["error": "\(KafkaError(err, context: detail))"]
                )
            }
        }
    }

    // MARK: - Rebalance (poll thread, inside librdkafka)

    private func rebalance(
        _ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    ) {
        let partitions = RDKafkaPartitionList.read(list)
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            let pause = state.withLock { state -> Bool in
                state.generation += 1
                state.joined = true
                for topicPartition in partitions {
                    state.trackers[topicPartition] = PartitionTracker(generation: state.generation)
                }
                return state.paused
            }
            if let error = rd_kafka_incremental_assign(rk, list) {
                logger.error("Kafka consumer incremental assign failed", metadata: ["error": "\(KafkaError(consuming: error, context: ""))"])
            }
            if pause {
                _ = rd_kafka_pause_partitions(rk, list)
            }
            logger.info("Kafka consumer assigned partitions", metadata: ["partitions": "\(partitions)"])

        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            revoke(rk, list, partitions, lost: rd_kafka_assignment_lost(rk) != 0)

        default:
            logger.error("Kafka consumer rebalance error; dropping the assignment", metadata: ["error": "\(KafkaError(err, context: ""))"])
            state.withLock { $0.joined = false }
            revoke(rk, nil, Array(state.withLock { $0.trackers.keys }), lost: true)
            _ = rd_kafka_assign(rk, nil)
        }
    }

    /// Stores and synchronously commits the revoked partitions' watermarks, forgets them (their
    /// buffered messages go to the new owner; late `markDone`s for them are ignored), unassigns.
    private func revoke(
        _ rk: OpaquePointer, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
        _ partitions: [TopicPartition], lost: Bool
    ) {
        let (commits, handout) = state.withLock { state -> ([(TopicPartition, Int64?)], (Waiter, KafkaMessage)?) in
            var commits: [(TopicPartition, Int64?)] = []
            for topicPartition in partitions {
                state.orphanHandedOut(topicPartition)
                guard let tracker = state.trackers.removeValue(forKey: topicPartition) else { continue }
                if let watermark = tracker.watermark {
                    commits.append((topicPartition, watermark))
                }
                state.dirty.remove(topicPartition)
            }
            state.buffer.removeAll(in: Set(partitions))
            return (commits, state.handOut())
        }
        if let (waiter, message) = handout {
            waiter.continuation.resume(returning: message)
        }

        if !lost, !commits.isEmpty {
            store(rk, commits)
            let err = commit(rk, commits)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR, err != RD_KAFKA_RESP_ERR__NO_OFFSET {
                logger.warning("Kafka consumer commit on revoke failed", metadata: ["error": "\(KafkaError(err, context: ""))"])
            }
        }
        if let list, let error = rd_kafka_incremental_unassign(rk, list) {
            logger.error("Kafka consumer incremental unassign failed", metadata: ["error": "\(KafkaError(consuming: error, context: ""))"])
        }
        logger.info(
            lost ? "Kafka consumer lost partitions" : "Kafka consumer revoked partitions",
            metadata: [
                "partitions": "\(partitions)",
                "committed": "\(lost ? [] : commits.map { "\($0.0)@\($0.1 ?? -1)" })",
            ]
        )
    }

    // MARK: - Shutdown (poll thread)

    /// Keeps polling (so the member stays in the group and rebalances are served) until every
    /// handed-out message is marked done or the drain deadline passes.
    private func drain(_ rk: OpaquePointer) {
        while true {
            let (outstanding, deadline) = state.withLock { ($0.outstanding, $0.drainDeadline) }
            if outstanding == 0 { break }
            if ContinuousClock.now >= deadline {
                logger.warning(
                    "Kafka consumer drain timed out; unfinished messages will be read again",
                    metadata: ["outstanding": "\(outstanding)"]
                )
                break
            }
            pollOnce(rk)
        }
    }

    /// Stores every watermark, commits synchronously, leaves the group, destroys the instance.
    private func close(_ client: RDKafkaClient) {
        let rk = client.handle.pointer
        // Commit and leave are each bounded by librdkafka, but only loosely (leaving waits for
        // the coordinator up to about session.timeout.ms); a stuck close must not keep a
        // stopping process alive, so `run()` returns after `closeTimeout` regardless.
        let timeout = Self.closeTimeout
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(timeout.components.seconds) * 1000)) { [closed, logger] in
            guard !closed.isSignalled else { return }
            logger.error("Kafka consumer close did not finish in time; giving up on it", metadata: ["timeout": "\(timeout)"])
            closed.signal()
        }
        store(rk, state.withLock { $0.offsetsToStore(all: true) })
        let err = commit(rk, nil)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, err != RD_KAFKA_RESP_ERR__NO_OFFSET {
            logger.warning("Kafka consumer final commit failed", metadata: ["error": "\(KafkaError(err, context: ""))"])
        }
        leaveGroup(rk)
        // Closed above (or given up on): do not let destroy close again without a bound.
        client.destroy(skipConsumerClose: true)
        let waiter = state.withLock { state -> Waiter? in
            state.phase = .closed
            state.client = nil
            state.trackers = [:]
            state.buffer = MessageBuffer()
            state.outstanding = 0
            state.orphans = []
            return state.takeWaiter()
        }
        waiter?.continuation.resume(returning: nil)
        logger.info("Kafka consumer closed", metadata: ["group": "\(configuration.groupID)"])
        closed.signal()
    }

    /// `rd_kafka_consumer_close`: runs the final revoke through our rebalance callback and
    /// leaves the group. librdkafka bounds it by roughly `session.timeout.ms`.
    ///
    /// Not the queue-based variant: serving that queue with callbacks aborts librdkafka
    /// (`rd_kafka_q_serve: assert: res != RD_KAFKA_OP_RES_PASS`) when a fetched message is
    /// forwarded there during the close, which the synchronous call handles itself.
    private func leaveGroup(_ rk: OpaquePointer) {
        let error = rd_kafka_consumer_close(rk)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("Kafka consumer close failed", metadata: ["error": "\(KafkaError(error, context: "leaving the group"))"])
        }
    }

    /// A synchronous commit (nil: the stored offsets of the whole assignment) that gives up
    /// after `commitTimeoutMs`.
    private func commit(_ rk: OpaquePointer, _ offsets: [(TopicPartition, Int64?)]?) -> rd_kafka_resp_err_t {
        guard let queue = rd_kafka_queue_new(rk) else { return RD_KAFKA_RESP_ERR__FAIL }
        defer { rd_kafka_queue_destroy(queue) }
        let err =
            if let offsets {
                // librdkafka copies the list, so it may go before the result comes.
                RDKafkaPartitionList.with(offsets) { rd_kafka_commit_queue(rk, $0, queue, nil, nil) }
            } else {
                rd_kafka_commit_queue(rk, nil, queue, nil, nil)
            }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { return err }
        guard let event = rd_kafka_queue_poll(queue, Self.commitTimeoutMs) else { return RD_KAFKA_RESP_ERR__TIMED_OUT }
        defer { rd_kafka_event_destroy(event) }
        return rd_kafka_event_error(event)
    }
}
