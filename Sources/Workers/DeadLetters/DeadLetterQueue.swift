import Kafka
import Logging
import SluiceCore
import SluiceKafka

/// What `sluice dlq list` and `sluice dlq replay` do: read `sluice.jobs.dlq` without disturbing
/// it, and put dead jobs back on their jobs topic.
///
/// Both read the DLQ through a ``KafkaTopicReader`` (no consumer group, nothing committed), so
/// listing is free of side effects and the DLQ keeps every record for its retention.
///
/// A replay remembers each DLQ record it put back as a `dlq.replayed` event on the compacted
/// `sluice.control` topic (key `dlq:<topic>/<partition>/<offset>`), in the same batch as the
/// replayed job; the next replay reads those first and skips what was replayed, so running
/// replay twice runs no job twice. The position of a record, not the job id, is what is
/// remembered: a replayed job that dies again gets a new DLQ record, which a later replay may
/// put back again.
public struct DeadLetterQueue: Sendable {
    private let configuration: KafkaTopicReader.Configuration
    private let topics: TopicCatalog
    private let logger: Logger

    /// - Parameter reader: the reader settings (bootstrap servers, client id, properties); its
    ///   `topics` are replaced by the DLQ or the control topic as needed.
    public init(reader: KafkaTopicReader.Configuration, topics: TopicCatalog, logger: Logger) {
        self.configuration = reader
        self.topics = topics
        self.logger = logger
    }

    /// The last `limit` DLQ records (of `tenant`, if given), oldest first.
    public func list(tenant: String?, limit: Int) async throws -> [DeadLetter] {
        let replayed = try await replayedPositions()
        var kept: [DeadLetter] = []
        let limit = max(0, limit)
        try await read(topics.jobsDLQ) { message in
            let dead = DeadLetter(message: message, replayed: replayed)
            guard tenant == nil || dead.tenant == tenant else { return }
            kept.append(dead)
            if kept.count > limit { kept.removeFirst(kept.count - limit) }
        }
        return kept
    }

    /// What a replay did.
    public struct ReplayReport: Sendable {
        /// The records put back, each as a new run of its job.
        public var replayed: [DeadLetter] = []
        /// Records left alone, with the reason (replayed before, unreadable, superseded).
        public var skipped: [(DeadLetter, String)] = []
    }

    /// Puts dead jobs back on their jobs topic: attempt 1, the same job id (the ledger keeps
    /// one job and reopens it), ``JobEnvelope/replay`` one higher, no failures; with a
    /// `job.replayed` audit event and the `dlq.replayed` marker, all in one batch.
    ///
    /// When one job has several unreplayed records (it died, and a redelivery made it die
    /// again), only its newest run is put back and the others are marked as replayed too.
    /// Memory holds one envelope per job to replay.
    ///
    /// - Parameters:
    ///   - jobID: only this job; nil with `all`.
    ///   - producer: running (its `run()` is the caller's).
    ///   - actor: who replays, for the audit event (`cli:<user>@<host>`).
    /// - Throws: `KafkaError` when a topic cannot be read or the broker refuses the records.
    public func replay(
        jobID: String?, all: Bool, tenant: String?, producer: KafkaProducer, actor: String, clock: WallClock = .system
    ) async throws -> ReplayReport {
        guard jobID != nil || all else { return ReplayReport() }
        let replayed = try await replayedPositions()
        var report = ReplayReport()
        /// Per job id: the record to put back and the older records of the same job.
        var chosen: [String: (dead: DeadLetter, superseded: [DeadLetter])] = [:]
        var order: [String] = []
        try await read(topics.jobsDLQ) { message in
            let dead = DeadLetter(message: message, replayed: replayed)
            guard jobID == nil || dead.jobID == jobID, tenant == nil || dead.tenant == tenant else { return }
            guard !dead.replayed else {
                report.skipped.append((dead, "replayed before"))
                return
            }
            guard let job = dead.job else {
                report.skipped.append((dead, "not a readable job envelope: \(dead.decodeError ?? "")"))
                return
            }
            if let current = chosen[job.id] {
                let newer = (current.dead.job?.replay ?? 0) <= job.replay
                chosen[job.id] = newer
                    ? (dead, current.superseded + [current.dead]) : (current.dead, current.superseded + [dead])
            } else {
                chosen[job.id] = (dead, [])
                order.append(job.id)
            }
        }
        for id in order {
            guard let entry = chosen[id], let job = entry.dead.job else { continue }
            let (dead, superseded) = entry
            let nowMs = clock.nowMs()
            var next = job
            next.attempt = 1
            next.replay = min(job.replay + 1, Wire.replayRange.upperBound)
            next.failures = []
            next.notBeforeMs = nil
            let event = AuditEvent(
                type: .replayed, tenant: job.tenant, jobID: job.id, attempt: 1, atMs: nowMs, actor: actor,
                detail: [
                    "dlq_record": .string(dead.position), "failed_attempts": .int(Int64(job.failures.count)),
                    "reason": .string(dead.reason ?? ""), "model": .string(job.model), "priority": .string(job.priority.rawValue),
                ],
                replay: next.replay)
            var records = [
                KafkaProducerMessage(topic: topics.jobs(job.priority), key: job.tenant, schema: JobEnvelope.schema, job: next, value: next),
                KafkaProducerMessage(topic: topics.audit, key: job.tenant, schema: AuditEvent.schema, job: next, value: event),
            ]
            for record in [dead] + superseded {
                let marker = ControlEvent(
                    kind: .dlqReplayed, jobID: job.id, tenant: job.tenant, requestedAtMs: nowMs, actor: actor, dlqRecord: record.position)
                records.append(KafkaProducerMessage(controlTopic: topics.control, event: marker))
            }
            try await producer.send(records)
            logger.info("replayed a dead job", metadata: ["job_id": "\(job.id)", "dlq_record": "\(dead.position)", "replay": "\(next.replay)"])
            report.replayed.append(dead)
            report.skipped += superseded.map { ($0, "an older run of a job replayed now") }
        }
        return report
    }

    // MARK: - Reading

    /// The DLQ positions that `dlq.replayed` markers on the control topic name.
    private func replayedPositions() async throws -> Set<String> {
        var positions = Set<String>()
        try await read(topics.control) { message in
            guard !message.value.isEmpty, let event = try? Wire.decode(ControlEvent.self, from: message.value),
                event.kind == .dlqReplayed, let position = event.dlqRecord
            else { return }
            positions.insert(position)
        }
        return positions
    }

    /// Calls `body` for every record the topic held when the read began, oldest first per
    /// partition.
    private func read(_ topic: String, _ body: (KafkaMessage) throws -> Void) async throws {
        var c = configuration
        c.topics = [topic]
        let reader = try KafkaTopicReader(configuration: c, logger: logger)
        do {
            try await reader.start()
            while true {
                if let message = try reader.poll() {
                    try body(message)
                } else if reader.isCaughtUp {
                    break
                } else {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
    }
}
