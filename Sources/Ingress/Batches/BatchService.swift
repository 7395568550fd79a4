import Foundation
import Logging
import ServiceLifecycle
import SluiceCore
import Synchronization

/// Ingests batch inputs and cancels batches, off the request path: `POST /v1/batches` answers
/// at once with `validating` and the work happens here.
///
/// Ingest reads the input file line by line, validates each line, records the valid ones
/// (`batch_requests`) and queues their jobs at p2, keyed by tenant, in chunks of records with
/// up to `batches.ingest_window` jobs awaiting the broker at once, so a 50,000-line file goes
/// out at the producer's rate rather than one round trip per job. Bad lines go to the batch's
/// error part file. Cancelling stops an ingest between chunks and then asks the workers to
/// cancel every job of the batch that has no result, through the job-cancel path.
///
/// An ingest holds a lease on its batch (``BatchIngestLeases``). When a process dies mid-ingest,
/// the batch service that finds the lapsed lease (every half lease) resumes it: it reads the
/// job topic for the batch's jobs that did get queued (``QueuedJobFinder``), then reads the
/// input again and queues only the others. Job ids are derived from batch id and line, so the
/// second reading names the same jobs as the first. See `BatchService+Resume.swift`.
public final class BatchService: Service, Sendable {
    /// Work handed over by the routes.
    enum Work: Sendable {
        /// `resumed`: a batch whose first ingest died; some of its jobs may be queued.
        case ingest(StoredBatch, inputPath: String, validator: BatchLineValidator, resumed: Bool)
        case cancel(batchID: String, tenant: String)
    }

    let store: any BatchStore
    let enqueuer: JobEnqueuer
    /// PII redaction of every line before it is queued (masks and drops; tokenized values of a
    /// batch line are masked for good: batch output is not restored).
    let redaction: IngressRedaction?
    let configuration: BatchesConfiguration
    /// The files directory, resolved.
    public let directory: String
    let clock: WallClock
    let logger: Logger
    /// Leases on batches being ingested, when the store keeps them.
    let leases: (any BatchIngestLeases)?
    /// Reads the job topic when a batch is resumed; without it no batch is resumed.
    let finder: QueuedJobFinder?
    private let work: AsyncStream<Work>
    let submit: AsyncStream<Work>.Continuation
    let state = Mutex(State())

    struct State {
        var ingesting: Set<String> = []
        var cancelRequested: Set<String> = []
        /// How the routes check lines; known once they are registered (resumes wait for it).
        var lineValidator: BatchLineValidator?
    }

    /// Jobs per produce call.
    static let chunkSize = 500

    public init(
        store: any BatchStore, enqueuer: JobEnqueuer, configuration: BatchesConfiguration, directory: String,
        clock: WallClock = .system, redaction: IngressRedaction? = nil, finder: QueuedJobFinder? = nil, logger: Logger
    ) {
        self.redaction = redaction
        self.leases = store as? any BatchIngestLeases
        self.finder = finder
        self.store = store
        self.enqueuer = enqueuer
        self.configuration = configuration
        self.directory = directory
        self.clock = clock
        self.logger = logger
        (work, submit) = AsyncStream.makeStream(of: Work.self)
    }

    public func run() async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // At graceful shutdown no new work is taken; work under way finishes.
        await withDiscardingTaskGroup { group in
            group.addTask { try? await cancelWhenGracefulShutdown { await self.resumeOrphans() } }
            for await item in work.cancelOnGracefulShutdown() {
                group.addTask { await self.perform(item) }
            }
        }
    }

    func ingest(_ batch: StoredBatch, inputPath: String, validator: BatchLineValidator) {
        state.withLock { _ = $0.ingesting.insert(batch.id) }
        submit.yield(.ingest(batch, inputPath: inputPath, validator: validator, resumed: false))
    }

    /// Stops the batch's ingest (if one runs) and cancels its unfinished jobs.
    func cancel(batchID: String, tenant: String) {
        let ingesting = state.withLock { state in
            state.cancelRequested.insert(batchID)
            return state.ingesting.contains(batchID)
        }
        // A running ingest sweeps when it stops, so that no job it queues is missed.
        if !ingesting { submit.yield(.cancel(batchID: batchID, tenant: tenant)) }
    }

    private func perform(_ item: Work) async {
        switch item {
        case .ingest(let batch, let path, let validator, let resumed):
            await runLeasedIngest(batch, inputPath: path, validator: validator, resumed: resumed)
            let cancelled = state.withLock { state in
                state.ingesting.remove(batch.id)
                return state.cancelRequested.contains(batch.id)
            }
            if cancelled { await sweep(batchID: batch.id, tenant: batch.tenant) }
        case .cancel(let batchID, let tenant):
            await sweep(batchID: batchID, tenant: tenant)
        }
    }

    func isCancelled(_ batchID: String) -> Bool {
        state.withLock { $0.cancelRequested.contains(batchID) }
    }

    // MARK: - Ingest

    /// - Parameters:
    ///   - lease: stops the ingest (without a verdict on the batch) when another process took
    ///     the batch over.
    ///   - alreadyQueued: jobs found on the job topic (a resumed ingest): not queued again.
    func runIngest(
        _ batch: StoredBatch, inputPath: String, validator: BatchLineValidator, lease: IngestLease? = nil,
        alreadyQueued: Set<String> = []
    ) async {
        let started = ContinuousClock.now
        do {
            let summary = try await ingestLines(
                batch, inputPath: inputPath, validator: validator, lease: lease, alreadyQueued: alreadyQueued)
            if summary.lines == 0 {
                try await store.failBatch(
                    batchID: batch.id, errors: Self.errors(code: "empty_file", message: "The input file has no requests.", line: nil),
                    nowMs: clock.nowMs())
                return
            }
            if let tooMany = summary.tooMany {
                try await store.failBatch(batchID: batch.id, errors: tooMany, nowMs: clock.nowMs())
                return
            }
            try await store.markIngested(
                batchID: batch.id, total: summary.lines, invalid: summary.invalid, jobCount: summary.jobs, model: summary.model,
                nowMs: clock.nowMs())
            logger.info(
                "batch ingested",
                metadata: [
                    "batch_id": "\(batch.id)", "lines": "\(summary.lines)", "jobs": "\(summary.jobs)", "invalid": "\(summary.invalid)",
                    "elapsed": "\(ContinuousClock.now - started)", "already_queued": "\(alreadyQueued.count)",
                ])
        } catch IngestLease.Lost.lost {
            logger.warning("batch ingest stopped: another process took the batch over", metadata: ["batch_id": "\(batch.id)"])
        } catch let interrupted as QueueingInterrupted where lease != nil && leases != nil {
            // The broker is away for longer than the chunk's retries: the batch is not failed for
            // that. Its lease is let go, so the next round of resumes (any process's) takes it
            // up again and queues what is still missing.
            logger.error(
                "batch ingest interrupted: the broker did not take its jobs; it will be resumed",
                metadata: ["batch_id": "\(batch.id)", "error": "\(Truncation.prefix("\(interrupted.underlying)", maxBytes: 1_024))"])
            if let lease, let leases { _ = try? await leases.renewIngest(batchID: batch.id, owner: lease.owner, untilMs: 0) }
        } catch {
            let reason = Truncation.prefix("\((error as? QueueingInterrupted)?.underlying ?? error)", maxBytes: 1_024)
            logger.error("batch ingest failed", metadata: ["batch_id": "\(batch.id)", "error": "\(reason)"])
            try? await store.failBatch(
                batchID: batch.id,
                errors: Self.errors(code: "ingest_failed", message: "The batch could not be queued: \(reason)", line: nil),
                nowMs: clock.nowMs())
        }
    }

    private struct Summary {
        var lines = 0
        var invalid = 0
        var jobs = 0
        var model: String?
        var tooMany: JSONValue?
    }

    private func ingestLines(
        _ batch: StoredBatch, inputPath: String, validator: BatchLineValidator, lease: IngestLease?, alreadyQueued: Set<String>
    ) async throws -> Summary {
        let reader = try LineReader(path: inputPath, maxLineBytes: validator.maxLineBytes)
        let invalidLines = InvalidLines(path: "\(directory)/\(batch.id).invalid.jsonl")
        defer { invalidLines.close() }
        var summary = Summary()
        var seen = Set<String>()
        var chunk: [(job: JobEnvelope, customID: String, line: Int)] = []
        let window = max(1, configuration.ingestWindow / Self.chunkSize)
        let nowMs = clock.nowMs()
        // Lines are judged as of the batch's creation, so that a resumed ingest judges every
        // line as the first one did (a `deadline` that has passed meanwhile) and names the same jobs.
        let judgedAtMs = batch.createdAtMs

        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            func flush() async throws {
                guard !chunk.isEmpty else { return }
                let jobs = chunk
                chunk.removeAll(keepingCapacity: true)
                try lease?.check()
                if inFlight >= window {
                    try await group.next()
                    inFlight -= 1
                }
                // Reading goes on while a chunk is recorded and sent; each chunk's lines are
                // recorded before its jobs are queued, so no result can lack its line.
                group.addTask {
                    try await self.store.addRequests(
                        batchID: batch.id,
                        jobs.map { BatchRequest(ordinal: $0.line, customID: $0.customID, jobID: $0.job.id) })
                    do {
                        try await self.enqueueRetrying(jobs.map { ($0.job, $0.customID) }, alreadyQueued: alreadyQueued)
                    } catch {
                        throw QueueingInterrupted(underlying: error)
                    }
                }
                inFlight += 1
            }

            while let line = try reader.next() {
                if case .line(let bytes) = line, bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
                summary.lines += 1
                if summary.lines > configuration.maxLines {
                    summary.tooMany = Self.errors(
                        code: "too_many_tasks", message: "The input has more than \(configuration.maxLines) requests (batches.max_lines).",
                        line: summary.lines)
                    break
                }
                // Checked at the first line too: a resumed batch that was being cancelled queues nothing.
                if (summary.lines - 1) % Self.chunkSize == 0, isCancelled(batch.id) { break }
                switch line {
                case .tooLong(let bytes):
                    summary.invalid += 1
                    try invalidLines.append(
                        line: summary.lines, customID: nil, code: "line_too_long",
                        message: "The line is \(bytes) bytes; the limit is \(validator.maxLineBytes) (ingress.max_body_bytes).")
                case .line(let bytes):
                    switch validator.validate(bytes, nowMs: judgedAtMs) {
                    case .invalid(let customID, let code, let message):
                        summary.invalid += 1
                        try invalidLines.append(line: summary.lines, customID: customID, code: code, message: message)
                    case .valid(let customID, let request):
                        guard seen.insert(customID).inserted else {
                            summary.invalid += 1
                            try invalidLines.append(
                                line: summary.lines, customID: customID, code: "duplicate_custom_id",
                                message: "The custom_id '\(customID)' is used by an earlier line of this file.")
                            continue
                        }
                        // The same PII redaction as a single job: nothing unredacted reaches Kafka.
                        var body = request.request
                        if let redaction {
                            do {
                                body = try redaction.redact(request.request, tenant: batch.tenant).request
                            } catch let refusal as APIError {
                                summary.invalid += 1
                                try invalidLines.append(line: summary.lines, customID: customID, code: refusal.code, message: refusal.message)
                                continue
                            }
                        }
                        summary.model = summary.model ?? request.model
                        let job = JobEnvelope(
                            id: StoredBatch.jobID(batchID: batch.id, line: summary.lines), tenant: batch.tenant, model: request.model,
                            priority: .p2, request: body, metadata: request.metadata, deadlineMs: request.deadlineMs,
                            createdAtMs: nowMs, batchID: batch.id, traceparent: IngressService.traceparent(nil))
                        summary.jobs += 1
                        chunk.append((job, customID, summary.lines))
                        if chunk.count >= Self.chunkSize { try await flush() }
                    }
                }
            }
            if summary.tooMany == nil { try await flush() }
            try await group.waitForAll()
        }
        return summary
    }

    /// Sends a chunk, retrying a broker that is briefly away when nothing of the chunk can
    /// have been stored (or, without leases, in any case: job ids are derived, so the ledger
    /// records a chunk sent twice once, though workers may run a job twice).
    private func enqueueRetrying(_ jobs: [(job: JobEnvelope, customID: String)], alreadyQueued: Set<String>) async throws {
        var attempt = 0
        while true {
            do {
                try await enqueuer.enqueue(batch: jobs, alreadyQueued: alreadyQueued)
                return
            } catch {
                attempt += 1
                // A chunk the broker may have stored in part must not simply go again: workers
                // would run both copies of a job. Where batches can be resumed, the resume reads
                // the job topic first and queues only what is missing.
                let uncertain = (error as? EnqueueError)?.mayHaveBeenQueued ?? true
                guard attempt < 5, !Task.isCancelled, !(uncertain && leases != nil) else { throw error }
                logger.warning("batch chunk not queued; retrying", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                try await Task.sleep(for: .milliseconds(500 * attempt))
            }
        }
    }

    /// A chunk the broker did not take after its retries.
    struct QueueingInterrupted: Error {
        var underlying: any Error
    }

    static func errors(code: String, message: String, line: Int?) -> JSONValue {
        var error: [String: JSONValue] = ["code": .string(code), "message": .string(message), "param": .null]
        error["line"] = line.map { .int(Int64($0)) } ?? .null
        return ["object": "list", "data": [.object(error)]]
    }

    // MARK: - Cancel

    /// Cancels every job of the batch that has no result, through the job-cancel path, with a
    /// bounded number of cancellations awaiting the broker.
    private func sweep(batchID: String, tenant: String) async {
        do {
            let jobs = try await store.unfinishedJobs(batchID: batchID)
            let nowMs = clock.nowMs()
            try await withThrowingTaskGroup(of: Void.self) { group in
                var inFlight = 0
                for jobID in jobs {
                    if inFlight >= 256 {
                        try await group.next()
                        inFlight -= 1
                    }
                    group.addTask {
                        try await self.enqueuer.requestCancellation(jobID: jobID, tenant: tenant, attempt: 1, nowMs: nowMs)
                    }
                    inFlight += 1
                }
                try await group.waitForAll()
            }
            logger.info("batch cancellation sent", metadata: ["batch_id": "\(batchID)", "jobs": "\(jobs.count)"])
        } catch {
            // The batch still ends `cancelled` after batches.cancel_grace_seconds.
            logger.error("batch cancellation incomplete", metadata: ["batch_id": "\(batchID)", "error": "\(error)"])
        }
    }
}

/// The error lines of a batch's invalid input lines, in OpenAI's error-file format, written as
/// they are found; the ledger copies them into the batch's error file at the end.
final class InvalidLines {
    private let path: String
    private var handle: FileHandle?
    private var buffer: [UInt8] = []

    init(path: String) {
        self.path = path
    }

    func append(line: Int, customID: String?, code: String, message: String) throws {
        let entry: JSONValue = [
            "id": .string("batch_req_line_\(line)"), "custom_id": customID.map(JSONValue.string) ?? .null, "response": .null,
            "error": ["code": .string(code), "message": .string("Line \(line): \(message)"), "line": .int(Int64(line))],
        ]
        buffer.append(contentsOf: entry.serialized())
        buffer.append(10)
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        if handle == nil {
            FileManager.default.createFile(atPath: path, contents: nil)
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        }
        try handle?.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() {
        try? flush()
        try? handle?.close()
    }
}
