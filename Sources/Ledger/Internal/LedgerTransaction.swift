import Foundation
import GRDB
import SluiceCore

/// Applies one batch of records inside one open write transaction.
///
/// Jobs touched by the batch are read once, changed in memory and written once at the end,
/// because a batch typically carries several events of the same job (accepted, started,
/// succeeded) and rewriting the row for each would multiply the work of a 1,000-record batch.
///
/// Idempotence comes from the event and result tables: an audit event whose id is already
/// stored, or a result for a job that already has one, is ignored entirely, so a redelivered
/// batch changes nothing. The status rules of ``JobProgress`` make the order of arrival
/// irrelevant as well.
struct LedgerTransaction {
    private struct CachedJob {
        var record: JobRecord
        var existsInDatabase: Bool
        var isDirty: Bool
    }

    let db: Database
    private let cipher: PayloadCipher?
    private let nowMs: Int64
    private var jobs: [String: CachedJob] = [:]
    private var chain: AuditChainHeads

    private init(db: Database, cipher: PayloadCipher?, nowMs: Int64) {
        self.db = db
        self.cipher = cipher
        self.nowMs = nowMs
        self.chain = AuditChainHeads(db: db)
    }

    /// Applies `records` in order; the caller owns the transaction. `cipher` seals payloads.
    static func apply(_ records: [LedgerRecord], cipher: PayloadCipher?, nowMs: Int64, in db: Database) throws {
        try apply(records.lazy.map { ($0, nil) }, cipher: cipher, nowMs: nowMs, in: db)
    }

    /// Applies entries in order, keeping each audit event's Kafka position; the caller owns
    /// the transaction.
    static func apply(_ entries: [LedgerEntry], cipher: PayloadCipher?, nowMs: Int64, in db: Database) throws {
        try apply(
            entries.lazy.map { ($0.record, KafkaPosition(partition: $0.partition, offset: $0.offset)) }, cipher: cipher,
            nowMs: nowMs, in: db)
    }

    private static func apply(
        _ records: some Sequence<(LedgerRecord, KafkaPosition?)>, cipher: PayloadCipher?, nowMs: Int64, in db: Database
    ) throws {
        var transaction = LedgerTransaction(db: db, cipher: cipher, nowMs: nowMs)
        for (record, position) in records {
            switch record {
            case .audit(let event): try transaction.apply(event, position: position)
            case .result(let result): try transaction.apply(result)
            }
        }
        try transaction.flush()
    }

    /// Where an audit event was read from.
    struct KafkaPosition {
        var partition: Int32
        var offset: Int64
    }

    // MARK: - Audit events

    private mutating func apply(_ event: AuditEvent, position: KafkaPosition?) throws {
        // Chain first, insert second: an id already stored inserts nothing, and then the head
        // does not move (a redelivered event is chained once, where its first copy arrived).
        var head = try chain.head(of: event.tenant)
        let digest = AuditHashing.payloadDigest(event.detail)
        let hash = AuditHashing.link(prevHash: head.hash, event: event, payloadDigest: digest)
        try db.cachedStatement(sql: AuditEventRecord.insertIgnoring).execute(arguments: [
            event.id, event.tenant, event.jobID, event.type.rawValue, event.attempt, event.atMs, event.actor,
            StoredJSON.text(event.detail), Data(head.hash), Data(hash), head.length + 1, Data(digest),
            position.map { Int64($0.partition) }, position?.offset, event.replay,
        ])
        guard db.changesCount > 0 else { return }
        head = AuditChainHeads.Head(length: head.length + 1, hash: hash)
        chain.set(head, of: event.tenant)
        if event.type.rawValue == Self.webhookAttemptType {
            try applyWebhookAttempt(event)
            return
        }
        guard let status = event.type.jobStatus else { return }

        let detail = event.detail
        guard
            var job = try job(
                id: event.jobID, tenant: event.tenant, model: detail?["model"]?.stringValue ?? "",
                firstSeenMs: event.atMs)
        else { return }

        if event.type == .accepted, !job.accepted {
            job.accepted = true
            job.createdAtMs = event.atMs
            if let model = detail?["model"]?.stringValue { job.model = model }
            if let text = detail?["priority"]?.stringValue, let priority = Priority(parsing: text) {
                job.priority = priority.rawValue
            }
            if let metadata = detail?["metadata"], !metadata.isNull { job.metadata = StoredJSON.text(metadata) }
            job.batchID = detail?["batch_id"]?.stringValue
            job.idempotencyKey = detail?["idempotency_key"]?.stringValue
            if let flags = detail?["injection_flags"], flags.arrayValue?.isEmpty == false {
                job.injectionFlags = StoredJSON.text(flags)
            }
        }
        if event.type == .accepted, let key = detail?["idempotency_key"]?.stringValue,
            let fingerprint = detail?["request_fingerprint"]?.stringValue
        {
            // Ingress of an older version sent no fingerprint: no binding then, since a replay
            // could not tell a retried body from a different one.
            try db.cachedStatement(sql: IdempotencyKeyRecord.upsert).execute(arguments: [
                event.tenant, key, event.jobID, fingerprint, event.atMs,
                IdempotencyBinding.expiryCutoff(nowMs: event.atMs),
            ])
        }
        if event.type == .started {
            job.attempts = max(job.attempts, event.attempt)
            job.startedAtMs = min(job.startedAtMs ?? event.atMs, event.atMs)
        }
        // `job.succeeded` and `job.failed` are the audit trail of an outcome whose content
        // travels on the results topic; the job moves when that result is stored, so no reader
        // (job view or status counts) ever sees an outcome without its result.
        if status != .succeeded && status != .failed {
            Self.advance(&job, to: JobProgress(status: status, attempt: event.attempt, atMs: event.atMs, replay: event.replay))
        }
        store(job)
    }

    // MARK: - Results

    /// The provider's answer as stored: sealed with the tenant's data key when encryption is
    /// on (nil for an erased tenant: nothing of it is kept).
    private func sealed(_ response: String?, of result: ResultEnvelope) throws -> String? {
        guard let cipher else { return response }
        return try cipher.sealText(response, tenant: result.tenant, jobID: result.jobID, column: "response", nowMs: nowMs, in: db)
    }

    private mutating func apply(_ result: ResultEnvelope) throws {
        let row = ResultRecord(
            jobID: result.jobID, tenant: result.tenant, status: result.status.rawValue, attempt: result.attempt,
            model: result.model, route: result.route, response: try sealed(StoredJSON.text(result.response), of: result),
            error: StoredJSON.text(result.error), promptTokens: result.usage?.promptTokens,
            completionTokens: result.usage?.completionTokens, totalTokens: result.usage?.totalTokens,
            cost: result.cost, currency: result.cost == nil ? nil : result.currency,
            startedAtMs: result.startedAtMs, finishedAtMs: result.finishedAtMs, replay: result.replay)
        try db.cachedStatement(sql: ResultRecord.insertIgnoringSQL).execute(arguments: row.rowArguments)
        if db.changesCount == 0 {
            // The job has a result already: only a later run's (a DLQ replay) replaces it.
            guard let stored = try ResultRecord.fetchOne(db.cachedStatement(sql: ResultRecord.selectByJobID), arguments: [result.jobID]),
                stored.tenant == result.tenant, stored.replay < result.replay
            else { return }
            try db.cachedStatement(sql: ResultRecord.updateSQL).execute(arguments: row.rowArguments)
        }
        try db.cachedStatement(sql: LedgerStore.forgetRequest).execute(arguments: [result.jobID, result.replay])

        guard
            var job = try job(
                id: result.jobID, tenant: result.tenant, model: result.model, firstSeenMs: result.startedAtMs)
        else { return }
        if job.model.isEmpty { job.model = result.model }
        // A result of attempt N proves that N attempts started, even before their events arrive;
        // the first job.started, when it comes, is earlier than this attempt's start.
        job.attempts = max(job.attempts, result.attempt)
        job.startedAtMs = min(job.startedAtMs ?? result.startedAtMs, result.startedAtMs)
        Self.advance(
            &job, to: JobProgress(status: result.status, attempt: result.attempt, atMs: result.finishedAtMs, replay: result.replay))
        store(job)
    }

    // MARK: - Jobs

    /// Moves the job's status forward if `candidate` is later in its life, and stamps the
    /// completion time when it becomes terminal.
    private static func advance(_ job: inout JobRecord, to candidate: JobProgress) {
        let current = JobProgress(
            status: JobStatus(rawValue: job.status) ?? .queued, attempt: job.statusAttempt, atMs: job.statusAtMs,
            replay: job.statusReplay)
        guard current.isSuperseded(by: candidate) else { return }
        job.status = candidate.status.rawValue
        job.statusAttempt = candidate.attempt
        job.statusAtMs = candidate.atMs
        job.statusReplay = candidate.replay
        // A replayed run reopens a finished job until it finishes again.
        job.completedAtMs = candidate.status.isTerminal ? candidate.atMs : nil
    }

    /// The job's row from this batch or the database, or a provisional one built from what the
    /// first record to mention it knows. Nil when the row belongs to another tenant: a record
    /// that names someone else's job must not change it.
    private mutating func job(id: String, tenant: String, model: String, firstSeenMs: Int64) throws -> JobRecord? {
        var known: JobRecord?
        if let cached = jobs[id] {
            known = cached.record
        } else if let stored = try JobRecord.fetchOne(db.cachedStatement(sql: JobRecord.selectByID), arguments: [id]) {
            jobs[id] = CachedJob(record: stored, existsInDatabase: true, isDirty: false)
            known = stored
        }
        if var known {
            guard known.tenant == tenant else { return nil }
            // Until job.accepted says when the job was made, the earliest sign of it is the best guess.
            if !known.accepted { known.createdAtMs = min(known.createdAtMs, firstSeenMs) }
            return known
        }
        let provisional = JobRecord(
            id: id, tenant: tenant, status: JobStatus.queued.rawValue, statusAttempt: 0, statusAtMs: firstSeenMs, statusReplay: 0,
            model: model, priority: Priority.p1.rawValue, attempts: 0, createdAtMs: firstSeenMs, startedAtMs: nil,
            completedAtMs: nil, batchID: nil, metadata: nil, idempotencyKey: nil, injectionFlags: nil, accepted: false)
        jobs[id] = CachedJob(record: provisional, existsInDatabase: false, isDirty: true)
        return provisional
    }

    private mutating func store(_ job: JobRecord) {
        jobs[job.id]?.record = job
        jobs[job.id]?.isDirty = true
    }

    /// Writes every job row and chain head the batch changed.
    private func flush() throws {
        try chain.flush()
        for cached in jobs.values where cached.isDirty {
            let sql = cached.existsInDatabase ? JobRecord.updateSQL : JobRecord.insertSQL
            try db.cachedStatement(sql: sql).execute(arguments: cached.record.rowArguments)
        }
    }
}
