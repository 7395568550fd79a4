import GRDB
import SluiceCore

/// Files and batches (migration `v11-batches`): written by the HTTP API (uploads, creates,
/// cancels) and by the ledger's ``BatchFinalizer`` (progress, terminal status, result files).
///
/// Status changes are conditional updates (`… WHERE status IN (…)`) rather than whole-row
/// writes, so the API and the finalizer never undo each other's change.
extension LedgerStore: BatchStore {
    // MARK: - Files

    public func insertFile(_ file: StoredFile) async throws {
        try await LedgerError.mapping {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO files (id, tenant, filename, purpose, bytes, created_at_ms, expires_at_ms)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [file.id, file.tenant, file.filename, file.purpose, file.bytes, file.createdAtMs, file.expiresAtMs])
            }
        }
    }

    public func file(id: String, tenant: String) async throws -> StoredFile? {
        try await LedgerError.mapping {
            try await pool.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM files WHERE id = ? AND tenant = ?", arguments: [id, tenant]).map(Self.storedFile)
            }
        }
    }

    public func files(tenant: String, purpose: String?, after: String?, limit: Int, ascending: Bool) async throws -> [StoredFile] {
        try await LedgerError.mapping {
            try await pool.read { db in
                var sql = "SELECT * FROM files WHERE tenant = ?"
                var arguments: StatementArguments = [tenant]
                if let purpose {
                    sql += " AND purpose = ?"
                    _ = arguments.append(contentsOf: [purpose])
                }
                if let after {
                    sql += ascending ? " AND id > ?" : " AND id < ?"
                    _ = arguments.append(contentsOf: [after])
                }
                sql += " ORDER BY id \(ascending ? "ASC" : "DESC") LIMIT ?"
                _ = arguments.append(contentsOf: [max(0, limit)])
                return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.storedFile)
            }
        }
    }

    public func deleteFile(id: String, tenant: String) async throws -> Bool {
        try await LedgerError.mapping {
            try await pool.write { db in
                try db.execute(sql: "DELETE FROM files WHERE id = ? AND tenant = ?", arguments: [id, tenant])
                return db.changesCount > 0
            }
        }
    }

    static func storedFile(_ row: Row) -> StoredFile {
        StoredFile(
            id: row["id"], tenant: row["tenant"], filename: row["filename"], purpose: row["purpose"], bytes: row["bytes"],
            createdAtMs: row["created_at_ms"], expiresAtMs: row["expires_at_ms"])
    }

    // MARK: - Batches

    public func insertBatch(_ batch: StoredBatch) async throws {
        let metadata = StoredJSON.text(batch.metadata)
        try await LedgerError.mapping {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO batches (id, tenant, kind, status, endpoint, input_file_id, completion_window, metadata,
                          model, webhook_url, created_at_ms, expires_at_ms, total, completed, failed, invalid, cancelled_count,
                          expired_count, job_count, ingested, input_tokens, output_tokens)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
                        """,
                    arguments: [
                        batch.id, batch.tenant, batch.kind.rawValue, batch.status.rawValue, batch.endpoint, batch.inputFileID,
                        batch.completionWindow, metadata, batch.model, batch.webhookURL, batch.createdAtMs, batch.expiresAtMs,
                    ])
            }
        }
    }

    public func batch(id: String, tenant: String) async throws -> StoredBatch? {
        try await LedgerError.mapping {
            try await pool.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM batches WHERE id = ? AND tenant = ?", arguments: [id, tenant])
                    .map(Self.storedBatch)
            }
        }
    }

    public func batches(tenant: String, kind: StoredBatch.Kind, after: String?, limit: Int) async throws -> [StoredBatch] {
        try await LedgerError.mapping {
            try await pool.read { db in
                var sql = "SELECT * FROM batches WHERE tenant = ? AND kind = ?"
                var arguments: StatementArguments = [tenant, kind.rawValue]
                if let after {
                    sql += " AND id < ?"
                    _ = arguments.append(contentsOf: [after])
                }
                sql += " ORDER BY id DESC LIMIT ?"
                _ = arguments.append(contentsOf: [max(0, limit)])
                return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.storedBatch)
            }
        }
    }

    public func addRequests(batchID: String, _ requests: [BatchRequest]) async throws {
        guard !requests.isEmpty else { return }
        try await LedgerError.mapping {
            try await pool.write { db in
                let statement = try db.cachedStatement(
                    sql: "INSERT OR IGNORE INTO batch_requests (batch_id, ordinal, custom_id, job_id) VALUES (?, ?, ?, ?)")
                for request in requests {
                    try statement.execute(arguments: [batchID, request.ordinal, request.customID, request.jobID])
                }
            }
        }
    }

    public func markIngested(batchID: String, total: Int, invalid: Int, jobCount: Int, model: String?, nowMs: Int64) async throws {
        try await LedgerError.mapping {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE batches SET total = ?, invalid = ?, failed = failed + ?, job_count = ?, model = ?, ingested = 1
                        WHERE id = ? AND ingested = 0
                        """,
                    arguments: [total, invalid, invalid, jobCount, model, batchID])
                try db.execute(
                    sql: "UPDATE batches SET status = 'in_progress', in_progress_at_ms = ? WHERE id = ? AND status = 'validating'",
                    arguments: [nowMs, batchID])
            }
        }
    }

    public func failBatch(batchID: String, errors: JSONValue, nowMs: Int64) async throws {
        let text = StoredJSON.text(errors)
        try await LedgerError.mapping {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE batches SET status = 'failed', failed_at_ms = ?, errors = ?, ingested = 1
                        WHERE id = ? AND status IN ('validating', 'in_progress', 'cancelling')
                        """,
                    arguments: [nowMs, text, batchID])
            }
        }
    }

    public func requestCancel(batchID: String, tenant: String, nowMs: Int64) async throws -> StoredBatch? {
        try await LedgerError.mapping {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE batches SET status = 'cancelling', cancelling_at_ms = ?
                        WHERE id = ? AND tenant = ? AND status IN ('validating', 'in_progress')
                        """,
                    arguments: [nowMs, batchID, tenant])
                return try Row.fetchOne(db, sql: "SELECT * FROM batches WHERE id = ? AND tenant = ?", arguments: [batchID, tenant])
                    .map(Self.storedBatch)
            }
        }
    }

    public func unfinishedJobs(batchID: String) async throws -> [String] {
        try await LedgerError.mapping {
            try await pool.read { db in
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT br.job_id FROM batch_requests br LEFT JOIN results r ON r.job_id = br.job_id
                        WHERE br.batch_id = ? AND r.job_id IS NULL ORDER BY br.ordinal
                        """,
                    arguments: [batchID])
            }
        }
    }

    public func deleteBatch(id: String, tenant: String) async throws -> Bool {
        try await LedgerError.mapping {
            try await pool.write { db in
                try db.execute(sql: "DELETE FROM batches WHERE id = ? AND tenant = ?", arguments: [id, tenant])
                let deleted = db.changesCount > 0
                if deleted { try db.execute(sql: "DELETE FROM batch_requests WHERE batch_id = ?", arguments: [id]) }
                return deleted
            }
        }
    }

    static func storedBatch(_ row: Row) -> StoredBatch {
        let metadata = (try? StoredJSON.value(JSONValue.self, from: row["metadata"])) ?? nil
        var batch = StoredBatch(
            id: row["id"], tenant: row["tenant"], kind: StoredBatch.Kind(rawValue: row["kind"]) ?? .openai, endpoint: row["endpoint"],
            inputFileID: row["input_file_id"], completionWindow: row["completion_window"], metadata: metadata,
            webhookURL: row["webhook_url"], createdAtMs: row["created_at_ms"], expiresAtMs: row["expires_at_ms"])
        batch.status = StoredBatch.Status(rawValue: row["status"]) ?? .failed
        batch.model = row["model"]
        batch.inProgressAtMs = row["in_progress_at_ms"]
        batch.finalizingAtMs = row["finalizing_at_ms"]
        batch.completedAtMs = row["completed_at_ms"]
        batch.failedAtMs = row["failed_at_ms"]
        batch.expiredAtMs = row["expired_at_ms"]
        batch.cancellingAtMs = row["cancelling_at_ms"]
        batch.cancelledAtMs = row["cancelled_at_ms"]
        batch.outputFileID = row["output_file_id"]
        batch.errorFileID = row["error_file_id"]
        batch.errors = (try? StoredJSON.value(JSONValue.self, from: row["errors"])) ?? nil
        batch.total = row["total"]
        batch.completed = row["completed"]
        batch.failed = row["failed"]
        batch.cancelledCount = row["cancelled_count"]
        batch.expiredCount = row["expired_count"]
        batch.jobCount = row["job_count"]
        batch.ingested = row["ingested"]
        batch.inputTokens = row["input_tokens"]
        batch.outputTokens = row["output_tokens"]
        return batch
    }
}
