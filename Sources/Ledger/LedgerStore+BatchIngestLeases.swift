import GRDB
import SluiceCore

/// Ingest leases on the `batches` rows (migration `v14-batch-ingest-lease`).
extension LedgerStore: BatchIngestLeases {
    public func orphanedIngests(nowMs: Int64, unclaimedBeforeMs: Int64) async throws -> [StoredBatch] {
        try await LedgerError.mapping {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM batches
                        WHERE ingested = 0 AND status IN ('validating', 'cancelling')
                          AND ((ingest_owner IS NULL AND created_at_ms < ?) OR (ingest_owner IS NOT NULL AND ingest_lease_until_ms < ?))
                        ORDER BY id
                        """,
                    arguments: [unclaimedBeforeMs, nowMs]
                ).map(Self.storedBatch)
            }
        }
    }

    public func claimIngest(batchID: String, owner: String, nowMs: Int64, untilMs: Int64) async throws -> Bool {
        try await LedgerError.mapping {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE batches SET ingest_owner = ?, ingest_lease_until_ms = ?
                        WHERE id = ? AND ingested = 0 AND status IN ('validating', 'cancelling')
                          AND (ingest_owner IS NULL OR ingest_lease_until_ms < ?)
                        """,
                    arguments: [owner, untilMs, batchID, nowMs])
                return db.changesCount > 0
            }
        }
    }

    public func renewIngest(batchID: String, owner: String, untilMs: Int64) async throws -> Bool {
        try await LedgerError.mapping {
            try await pool.write { db in
                try db.execute(
                    sql: "UPDATE batches SET ingest_lease_until_ms = ? WHERE id = ? AND ingest_owner = ?",
                    arguments: [untilMs, batchID, owner])
                return db.changesCount > 0
            }
        }
    }

    public func recordedJobIDs(batchID: String) async throws -> Set<String> {
        try await LedgerError.mapping {
            try await pool.read { db in
                Set(try String.fetchAll(db, sql: "SELECT job_id FROM batch_requests WHERE batch_id = ?", arguments: [batchID]))
            }
        }
    }
}
