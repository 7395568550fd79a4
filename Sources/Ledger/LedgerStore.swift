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
    private let pool: DatabasePool

    // MARK: - Opening

    /// Opens the ledger at `path`, creating the file and running pending migrations.
    ///
    /// - Parameter path: The SQLite file; its `-wal` and `-shm` companions live beside it.
    /// - Throws: ``LedgerError`` when the file cannot be opened or migrated.
    public init(path: String) throws {
        pool = try LedgerError.mapping {
            let pool = try DatabasePool(path: path, configuration: Self.configuration(readOnly: false))
            try LedgerMigrations.migrator.migrate(pool)
            return pool
        }
    }

    /// Opens an existing ledger for reading only, for a process (such as `sluice ingress`) that
    /// serves job status while another process owns the writes.
    ///
    /// - Throws: ``LedgerError`` with code `schemaMismatch` when the file lacks migrations this
    ///   version relies on (the writer has not created or upgraded it yet). A file migrated by a
    ///   newer writer is accepted: migrations only add, so old readers keep working.
    public init(readOnlyPath path: String) throws {
        pool = try LedgerError.mapping {
            try DatabasePool(path: path, configuration: Self.configuration(readOnly: true))
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

    /// WAL (the pool's default) with synchronous=NORMAL: a commit survives a process crash, and
    /// at worst the last transactions are lost on power failure, which redelivery from Kafka
    /// repairs because offsets are committed only after the write. The busy timeout covers a
    /// reader process checkpointing or a brief lock by an operator's `sqlite3`.
    private static func configuration(readOnly: Bool) -> Configuration {
        var configuration = Configuration()
        configuration.label = "sluice.ledger"
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return configuration
    }

    // MARK: - Writing

    /// Applies a batch in one transaction, on the calling thread.
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
        try LedgerError.mapping {
            try pool.write { db in try LedgerTransaction.apply(records, in: db) }
        }
    }

    /// Applies a batch in one transaction on GRDB's serial writer queue, suspending the caller
    /// instead of blocking a cooperative thread.
    func applyOffPool(_ records: [LedgerRecord]) async throws {
        guard !records.isEmpty else { return }
        try await LedgerError.mapping {
            try await pool.write { db in try LedgerTransaction.apply(records, in: db) }
        }
    }

    // MARK: - Reading

    /// The job as the HTTP API shows it, or nil when there is no such job for this tenant.
    public func job(id: String, tenant: String) async throws -> JobView? {
        try await LedgerError.mapping {
            try await pool.read { db in try Self.jobView(id: id, tenant: tenant, in: db) }
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

    private static func jobView(id: String, tenant: String, in db: Database) throws -> JobView? {
        // Cached statements: building SQL through the query interface on every poll was a
        // visible share of CPU under load.
        guard let job = try JobRecord.fetchOne(db.cachedStatement(sql: JobRecord.selectByID), arguments: [id]),
            job.tenant == tenant
        else { return nil }
        let result = try ResultRecord.fetchOne(db.cachedStatement(sql: ResultRecord.selectByJobID), arguments: [id])
        var usage: Usage?
        if let result, let prompt = result.promptTokens, let completion = result.completionTokens {
            usage = Usage(promptTokens: prompt, completionTokens: completion, totalTokens: result.totalTokens)
        }
        return JobView(
            id: job.id, tenant: job.tenant, status: JobStatus(rawValue: job.status) ?? .queued, model: job.model,
            priority: Priority(rawValue: job.priority) ?? .p1, attempts: job.attempts, createdAtMs: job.createdAtMs,
            startedAtMs: job.startedAtMs, completedAtMs: job.completedAtMs, batchID: job.batchID,
            metadata: try StoredJSON.value(JSONValue.self, from: job.metadata),
            result: try StoredJSON.value(JSONValue.self, from: result?.response),
            error: try StoredJSON.value(JobError.self, from: result?.error), usage: usage)
    }
}
