import Foundation
import GRDB
import SluiceCore

/// An accepted job the ledger has no result for.
public struct UnfinishedJob: Sendable {
    public var id: String
    public var tenant: String
    public var createdAtMs: Int64
    /// The job as it was queued; nil when the ledger never stored it (accepted before the
    /// `v8-job-request` migration, or the job topic's record was lost before the ledger read it).
    public var envelope: JobEnvelope?
}

extension LedgerStore {
    /// Deletes a job's stored request once a result of the same or a later run is stored.
    static let forgetRequest = "DELETE FROM job_requests WHERE job_id = ? AND replay <= ?"

    /// Keeps a job record (the bytes of its job topic's record) until the job has a result.
    ///
    /// A record of a job whose run already has a result is not stored (the job topic and the
    /// results topic are read independently, so the result may come first); a later run (a DLQ
    /// replay) replaces an earlier one; a retry's copy of the same run changes nothing.
    ///
    /// - Throws: ``LedgerError``; nothing of the batch is stored then.
    public func keepRequests(_ jobs: [(envelope: JobEnvelope, bytes: [UInt8])]) async throws {
        guard !jobs.isEmpty else { return }
        let nowMs = clock.nowMs()
        try await LedgerError.mapping {
            try await pool.write { [cipher] db in
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO job_requests (job_id, tenant, replay, created_at_ms, envelope)
                    SELECT ?1, ?2, ?3, ?4, ?5
                    WHERE NOT EXISTS (SELECT 1 FROM results WHERE job_id = ?1 AND replay >= ?3)
                    ON CONFLICT (job_id) DO UPDATE SET
                        tenant = excluded.tenant, replay = excluded.replay, created_at_ms = excluded.created_at_ms,
                        envelope = excluded.envelope
                    WHERE excluded.replay > job_requests.replay
                    """)
                for job in jobs {
                    let e = job.envelope
                    // The prompt is the payload most worth protecting: sealed with the tenant's
                    // key, and not kept at all for an erased tenant.
                    var stored = Data(job.bytes)
                    if let cipher {
                        guard let sealed = try cipher.sealBlob(job.bytes, tenant: e.tenant, jobID: e.id, column: "envelope", nowMs: nowMs, in: db)
                        else { continue }
                        stored = sealed
                    }
                    try statement.execute(arguments: [e.id, e.tenant, e.replay, e.createdAtMs, stored])
                }
            }
        }
    }

    /// Every accepted job without a result, oldest first, with its stored request if any.
    ///
    /// - Parameters:
    ///   - tenant: only this tenant's jobs, when given.
    ///   - sinceMs: only jobs accepted at or after this time (Unix ms), when given.
    /// - Throws: ``LedgerError``, also for a stored request that no longer decodes.
    public func unfinishedJobs(tenant: String? = nil, sinceMs: Int64? = nil) throws -> [UnfinishedJob] {
        var sql = """
            SELECT j.id, j.tenant, j.created_at_ms, q.envelope FROM jobs j
            LEFT JOIN results r ON r.job_id = j.id
            LEFT JOIN job_requests q ON q.job_id = j.id
            WHERE r.job_id IS NULL AND j.accepted = 1 AND j.status NOT IN ('succeeded', 'failed', 'cancelled')
            """
        var arguments: StatementArguments = []
        if let tenant {
            sql += " AND j.tenant = ?"
            arguments += [tenant]
        }
        if let sinceMs {
            sql += " AND j.created_at_ms >= ?"
            arguments += [sinceMs]
        }
        sql += " ORDER BY j.created_at_ms, j.id"
        let finalSQL = sql
        let finalArguments = arguments
        return try LedgerError.mapping {
            try pool.read { [cipher] db in
                try Row.fetchAll(db, sql: finalSQL, arguments: finalArguments).map { row in
                    let id: String = row[0]
                    let tenant: String = row[1]
                    var envelope: JobEnvelope?
                    // An erased tenant's request no longer opens: the job is listed without it.
                    let stored: Data? = row[3]
                    let bytes = try stored.flatMap { stored in
                        guard let cipher else { return Array(stored) }
                        return try cipher.openBlob(stored, tenant: tenant, jobID: id, column: "envelope", in: db)
                    }
                    if let bytes {
                        do {
                            envelope = try Wire.decode(JobEnvelope.self, from: bytes)
                        } catch {
                            throw LedgerError(code: .encoding, message: "the stored request of job \(id) does not decode: \(error)")
                        }
                    }
                    return UnfinishedJob(id: id, tenant: tenant, createdAtMs: row[2], envelope: envelope)
                }
            }
        }
    }
}

extension LedgerStore {
    /// How many job requests the ledger holds (jobs accepted and not finished, as far as it
    /// knows), for tests and operators.
    public func storedRequestCount() throws -> Int {
        try LedgerError.mapping {
            try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM job_requests") ?? 0 }
        }
    }
}
