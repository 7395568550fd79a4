import GRDB
import SluiceCore

/// The SQLite ledger: jobs, their results and the audit log, filled from Kafka and read by the
/// HTTP API.
///
/// Every stage before the ledger is at-least-once; the ledger makes the whole pipeline
/// effectively-once by keying every write (event id, job id) so that a redelivered record
/// changes nothing, and by ordering job status by what happened rather than by what arrived
/// last. One `DatabasePool` in WAL mode lets the API read while the writer writes.
///
/// - Important: Open one store per file per process. A second process may read the same file
///   through ``init(readOnlyPath:)``.
public final class LedgerStore: JobLookup, Sendable {
    let pool: DatabasePool
    /// Key bindings expire, and rejects are stamped, by this clock.
    let clock: WallClock
    /// Seals prompts and provider answers with their tenant's data key; nil stores them as
    /// they are (tests, and ledgers configured without encryption).
    let cipher: PayloadCipher?

    // MARK: - Opening

    /// Opens the ledger at `path`, creating the file and running pending migrations.
    ///
    /// - Parameters:
    ///   - path: The SQLite file; its `-wal` and `-shm` companions live beside it.
    ///   - synchronous: How hard a commit waits for the disk. Default: `.full`, which the
    ///     writer's offset commits rely on; `.normal` exists to measure what `.full` costs.
    ///   - clock: Reads the time for key expiry. Default: the system clock.
    ///   - cipher: Encrypts payloads at rest (see ``PayloadCipher``); nil keeps them in clear.
    /// - Throws: ``LedgerError`` when the file cannot be opened or migrated.
    public init(path: String, synchronous: Synchronous = .full, clock: WallClock = .system, cipher: PayloadCipher? = nil) throws {
        self.clock = clock
        self.cipher = cipher
        pool = try LedgerError.mapping {
            let pool = try DatabasePool(
                path: path, configuration: Self.configuration(readOnly: false, synchronous: synchronous))
            try LedgerMigrations.migrator.migrate(pool)
            try pool.write { db in try AuditChainBackfill.run(in: db) }
            return pool
        }
    }

    /// Opens an existing ledger for reading only, for a process (such as `sluice ingress`) that
    /// serves job status while another process owns the writes.
    ///
    /// - Throws: ``LedgerError`` with code `schemaMismatch` when the file lacks migrations this
    ///   version relies on (the writer has not created or upgraded it yet). A file migrated by a
    ///   newer writer is accepted: migrations only add, so old readers keep working.
    public init(readOnlyPath path: String, clock: WallClock = .system, cipher: PayloadCipher? = nil) throws {
        self.clock = clock
        self.cipher = cipher
        pool = try LedgerError.mapping {
            try DatabasePool(path: path, configuration: Self.configuration(readOnly: true, synchronous: .full))
        }
        let upToDate = try LedgerError.mapping {
            try pool.read { db in
                try LedgerMigrations.migrator.hasCompletedMigrations(db)
            }
        }
        guard upToDate else {
            throw LedgerError(
                code: .schemaMismatch, message: "\(path) has not been migrated by this version of the ledger")
        }
    }

    /// Opens an existing, migrated ledger for writing without migrating it, for a process that
    /// writes only its own small tables (tenants and keys: `sluice keys`, an ingress's admin
    /// API; files and batches: an ingress's batch routes) while the ledger process owns the
    /// schema.
    ///
    /// - Throws: ``LedgerError`` with code `schemaMismatch` when the file lacks migrations.
    public init(existingPath path: String, clock: WallClock = .system) throws {
        self.clock = clock
        // Tenants, keys, files and batches only: no sealed payload is read or written through
        // this store.
        self.cipher = nil
        pool = try LedgerError.mapping {
            try DatabasePool(path: path, configuration: Self.configuration(readOnly: false, synchronous: .full))
        }
        let upToDate = try LedgerError.mapping {
            try pool.read { db in try LedgerMigrations.migrator.hasCompletedMigrations(db) }
        }
        guard upToDate else {
            throw LedgerError(code: .schemaMismatch, message: "\(path) has not been migrated by this version of the ledger")
        }
    }

    /// WAL (the pool's default) with synchronous=FULL by default: every commit fsyncs the WAL
    /// before it returns. The writer marks a batch's Kafka messages done right after the commit
    /// and their offsets are committed soon after, so a commit that a power failure could still
    /// undo (NORMAL's trade-off) would lose those records for good: Kafka would not redeliver
    /// them. One fsync per batch transaction is the price (see BENCHMARKS.md). The busy timeout
    /// covers a reader process checkpointing or a brief lock by an operator's `sqlite3`.
    private static func configuration(readOnly: Bool, synchronous: Synchronous) -> Configuration {
        var configuration = Configuration()
        configuration.label = "sluice.ledger"
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(5)
        let pragma = "PRAGMA synchronous = \(synchronous.pragmaValue)"
        configuration.prepareDatabase { db in
            try db.execute(sql: pragma)
        }
        return configuration
    }

    // MARK: - Writing

    /// The most expired `Idempotency-Key` bindings one write transaction deletes: enough to keep
    /// up with any batch size in use (each batch binds at most one key per record), small enough
    /// that eviction stays a constant cost per write instead of an occasional long scan.
    public static let evictionLimitPerWrite = 1_000

    /// Applies a batch in one transaction, on the calling thread: all of it or, on error,
    /// nothing.
    ///
    /// Idempotent: applying the same records again, in the same or another batch, in any order,
    /// leaves the ledger as it was.
    ///
    /// - Important: Blocks while SQLite writes; do not call it from the cooperative thread pool
    ///   in a hot path (``LedgerWriter`` uses GRDB's writer queue instead).
    /// - Throws: ``LedgerError``; the transaction is then rolled back and nothing of the batch
    ///   is stored.
    public func apply(_ records: [LedgerRecord]) throws {
        guard !records.isEmpty else { return }
        let nowMs = clock.nowMs()
        try LedgerError.mapping {
            try pool.write { db in
                try LedgerTransaction.apply(records, cipher: cipher, nowMs: nowMs, in: db)
                try Self.evictExpiredKeys(nowMs: nowMs, limit: Self.evictionLimitPerWrite, in: db)
            }
        }
    }

    /// Applies a batch of records from Kafka in one transaction, setting aside the ones the
    /// store refuses for their own content (``LedgerError/isRecordFault``) in `ledger_rejects`
    /// instead of failing the whole batch, and storing `malformed` rejects alongside.
    ///
    /// The batch is tried whole first; only when that fails for a record's fault are the
    /// records applied one by one, each in its own savepoint, so that the good ones are kept.
    /// Either way it is one transaction, and one fsync.
    ///
    /// - Parameters:
    ///   - entries: The records, with their Kafka positions and bytes.
    ///   - malformed: Records that could not even be decoded.
    /// - Returns: The entries that were set aside (not counting `malformed`).
    /// - Throws: ``LedgerError`` for any failure that is not a record's fault (a full disk, a
    ///   locked or corrupt file); nothing of the batch is stored then.
    @discardableResult
    public func apply(_ entries: [LedgerEntry], rejecting malformed: [LedgerReject] = []) throws -> [LedgerReject] {
        guard !entries.isEmpty || !malformed.isEmpty else { return [] }
        let nowMs = clock.nowMs()
        return try LedgerError.mapping {
            try pool.write { db in try Self.write(entries, malformed: malformed, cipher: cipher, nowMs: nowMs, in: db) }
        }
    }

    /// ``apply(_:rejecting:)`` on GRDB's serial writer queue, suspending the caller instead of
    /// blocking a cooperative thread.
    func applyOffPool(_ entries: [LedgerEntry], rejecting malformed: [LedgerReject]) async throws -> [LedgerReject] {
        guard !entries.isEmpty || !malformed.isEmpty else { return [] }
        let nowMs = clock.nowMs()
        return try await LedgerError.mapping {
            try await pool.write { [cipher] db in try Self.write(entries, malformed: malformed, cipher: cipher, nowMs: nowMs, in: db) }
        }
    }

    /// Deletes up to `limit` `Idempotency-Key` bindings that expired before `nowMs`, oldest
    /// first. The writer does this in every batch; this is for tests and operators.
    ///
    /// - Returns: How many were deleted.
    @discardableResult
    public func evictExpiredIdempotencyKeys(nowMs: Int64, limit: Int = LedgerStore.evictionLimitPerWrite) throws -> Int {
        try LedgerError.mapping {
            try pool.write { db in try Self.evictExpiredKeys(nowMs: nowMs, limit: limit, in: db) }
        }
    }

    private static func write(
        _ entries: [LedgerEntry], malformed: [LedgerReject], cipher: PayloadCipher?, nowMs: Int64, in db: Database
    ) throws -> [LedgerReject] {
        var rejected: [LedgerReject] = []
        do {
            try db.inSavepoint {
                try LedgerTransaction.apply(entries, cipher: cipher, nowMs: nowMs, in: db)
                return .commit
            }
        } catch {
            guard Self.isRecordFault(error) else { throw error }
            // Some record cannot be stored: find which, keep the others.
            for entry in entries {
                do {
                    try db.inSavepoint {
                        try LedgerTransaction.apply([entry], cipher: cipher, nowMs: nowMs, in: db)
                        return .commit
                    }
                } catch {
                    guard Self.isRecordFault(error) else { throw error }
                    let reject = LedgerReject(
                        topic: entry.topic, partition: entry.partition, offset: entry.offset, value: entry.value,
                        error: "\(Self.ledgerError(error) ?? LedgerError(code: .storage, message: "\(error)"))",
                        atMs: nowMs)
                    try LedgerRejectRecord(reject).insert(db, onConflict: .ignore)
                    rejected.append(reject)
                }
            }
        }
        for reject in malformed {
            try LedgerRejectRecord(reject).insert(db, onConflict: .ignore)
        }
        try evictExpiredKeys(nowMs: nowMs, limit: evictionLimitPerWrite, in: db)
        return rejected
    }

    @discardableResult
    private static func evictExpiredKeys(nowMs: Int64, limit: Int, in db: Database) throws -> Int {
        try db.cachedStatement(sql: IdempotencyKeyRecord.evictExpired).execute(arguments: [
            IdempotencyBinding.expiryCutoff(nowMs: nowMs), max(0, limit),
        ])
        return db.changesCount
    }

    private static func ledgerError(_ error: any Error) -> LedgerError? {
        if let error = error as? LedgerError { return error }
        if let error = error as? DatabaseError { return LedgerError(error) }
        return nil
    }

    private static func isRecordFault(_ error: any Error) -> Bool {
        ledgerError(error)?.isRecordFault ?? false
    }

    // MARK: - Reading

    /// The job as the HTTP API shows it, or nil when there is no such job for this tenant.
    public func job(id: String, tenant: String) async throws -> JobView? {
        try await LedgerError.mapping {
            try await pool.read { [cipher] db in try Self.jobView(id: id, tenant: tenant, cipher: cipher, in: db) }
        }
    }

    /// The `Idempotency-Key` binding of this tenant's key, alive or expired-but-not-yet-evicted;
    /// nil when there is none.
    public func idempotencyBinding(tenant: String, key: String) async throws -> IdempotencyBinding? {
        try await LedgerError.mapping {
            try await pool.read { db in
                try IdempotencyKeyRecord.fetchOne(
                    db.cachedStatement(sql: IdempotencyKeyRecord.selectByKey), arguments: [tenant, key]
                ).map {
                    IdempotencyBinding(
                        tenant: $0.tenant, key: $0.idempotencyKey, jobID: $0.jobID, fingerprint: $0.fingerprint,
                        createdAtMs: $0.createdAtMs)
                }
            }
        }
    }

    /// The records set aside in `ledger_rejects`, oldest first.
    public func rejects() throws -> [LedgerReject] {
        try LedgerError.mapping {
            try pool.read { db in
                try LedgerRejectRecord.order(Column("seq")).fetchAll(db).map(\.reject)
            }
        }
    }

    /// How many rows each table holds, for tests and operators counting "nothing lost,
    /// nothing doubled".
    public func counts() throws -> (jobs: Int, results: Int, auditEvents: Int) {
        try LedgerError.mapping {
            try pool.read { db in
                (
                    jobs: try JobRecord.fetchCount(db),
                    results: try ResultRecord.fetchCount(db),
                    auditEvents: try AuditEventRecord.fetchCount(db)
                )
            }
        }
    }

    /// Jobs per status, for one tenant or (with nil) for all. Statuses with no job are absent.
    public func statusCounts(tenant: String?) throws -> [JobStatus: Int] {
        try LedgerError.mapping {
            try pool.read { db in
                var request = JobRecord.select(Column("status"), count(Column("id")))
                if let tenant { request = request.filter(Column("tenant") == tenant) }
                let rows = try Row.fetchAll(db, request.group(Column("status")))
                var counts: [JobStatus: Int] = [:]
                for row in rows {
                    guard let status = JobStatus(rawValue: row[0]) else { continue }
                    counts[status] = row[1]
                }
                return counts
            }
        }
    }

    /// A stored answer as JSON text: opened with the tenant's key when sealed; nil when the
    /// tenant was erased. Without a cipher a sealed answer is an error, never shown as is.
    private static func openResponse(_ stored: String?, cipher: PayloadCipher?, tenant: String, jobID: String, in db: Database) throws -> String? {
        guard let cipher else {
            if let stored, stored.hasPrefix(PayloadCipher.textPrefix) {
                throw LedgerError(code: .configuration, message: "the answer of job \(jobID) is sealed and this process has no ledger master key")
            }
            return stored
        }
        return try cipher.openText(stored, tenant: tenant, jobID: jobID, column: "response", in: db)
    }

    private static func jobView(id: String, tenant: String, cipher: PayloadCipher?, in db: Database) throws -> JobView? {
        // Cached statements: building SQL through the query interface on every poll was a
        // visible share of CPU under load.
        guard let job = try JobRecord.fetchOne(db.cachedStatement(sql: JobRecord.selectByID), arguments: [id]),
            job.tenant == tenant
        else { return nil }
        // A job replayed from the DLQ shows no result of its earlier run while the new one runs.
        let result = try ResultRecord.fetchOne(db.cachedStatement(sql: ResultRecord.selectByJobID), arguments: [id])
            .flatMap { $0.replay >= job.statusReplay ? $0 : nil }
        var usage: Usage?
        if let result, let prompt = result.promptTokens, let completion = result.completionTokens {
            usage = Usage(promptTokens: prompt, completionTokens: completion, totalTokens: result.totalTokens)
        }
        return JobView(
            id: job.id, tenant: job.tenant, status: JobStatus(rawValue: job.status) ?? .queued, model: job.model,
            priority: Priority(rawValue: job.priority) ?? .p1, attempts: job.attempts, createdAtMs: job.createdAtMs,
            startedAtMs: job.startedAtMs, completedAtMs: job.completedAtMs, batchID: job.batchID,
            metadata: try StoredJSON.value(JSONValue.self, from: job.metadata),
            result: try StoredJSON.value(JSONValue.self, from: try openResponse(result?.response, cipher: cipher, tenant: tenant, jobID: id, in: db)),
            error: try StoredJSON.value(JobError.self, from: result?.error), usage: usage,
            cost: result?.cost, currency: result?.cost == nil ? nil : result?.currency,
            injectionFlags: try StoredJSON.value(JSONValue.self, from: job.injectionFlags))
    }
}
