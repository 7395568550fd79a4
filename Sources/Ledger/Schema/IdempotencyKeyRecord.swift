import GRDB

/// A row of `idempotency_keys`: which job an `Idempotency-Key` of a tenant names, and for
/// which request body.
struct IdempotencyKeyRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "idempotency_keys"
    /// For `cachedStatement`: read for every keyed submission.
    static let selectByKey = "SELECT * FROM idempotency_keys WHERE tenant = ? AND idempotency_key = ?"
    /// Binds a key, or rebinds it once the old binding has expired (arguments: tenant, key,
    /// job id, fingerprint, created at, expiry cut-off). A binding that is still alive wins over
    /// a later one, so the first job stays the answer for 24 h.
    static let upsert = """
        INSERT INTO idempotency_keys (tenant, idempotency_key, job_id, fingerprint, created_at_ms)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (tenant, idempotency_key) DO UPDATE SET
            job_id = excluded.job_id, fingerprint = excluded.fingerprint, created_at_ms = excluded.created_at_ms
        WHERE idempotency_keys.created_at_ms < ?
        """
    /// Deletes up to a bound of expired rows, oldest first, through the `created_at_ms` index
    /// (arguments: cut-off, limit): constant work per batch, never a scan.
    static let evictExpired = """
        DELETE FROM idempotency_keys WHERE rowid IN (
            SELECT rowid FROM idempotency_keys WHERE created_at_ms < ? ORDER BY created_at_ms LIMIT ?)
        """

    var tenant: String
    var idempotencyKey: String
    var jobID: String
    var fingerprint: String
    var createdAtMs: Int64

    enum CodingKeys: String, CodingKey {
        case tenant, fingerprint
        case idempotencyKey = "idempotency_key"
        case jobID = "job_id"
        case createdAtMs = "created_at_ms"
    }
}
