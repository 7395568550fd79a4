/// Where the HTTP API keeps files and batches: the ledger's `files`, `batches` and
/// `batch_requests` tables (the executable wires the ledger in; Ingress never sees it).
///
/// Every read is scoped by tenant: another tenant's file or batch is not found.
public protocol BatchStore: Sendable {
    func insertFile(_ file: StoredFile) async throws
    func file(id: String, tenant: String) async throws -> StoredFile?
    /// Up to `limit` files of `tenant`, newest first (or oldest first when `ascending`),
    /// after the file `after` in that order.
    func files(tenant: String, purpose: String?, after: String?, limit: Int, ascending: Bool) async throws -> [StoredFile]
    /// Removes the row; returns whether there was one.
    func deleteFile(id: String, tenant: String) async throws -> Bool

    func insertBatch(_ batch: StoredBatch) async throws
    func batch(id: String, tenant: String) async throws -> StoredBatch?
    /// Up to `limit` batches of `tenant` and `kind`, newest first, after the batch `after`.
    func batches(tenant: String, kind: StoredBatch.Kind, after: String?, limit: Int) async throws -> [StoredBatch]
    /// Records the valid lines just read, before their jobs are queued.
    func addRequests(batchID: String, _ requests: [BatchRequest]) async throws
    /// Records that the whole input was read: counts, bad-line count, and `in_progress` (unless
    /// the batch was cancelled meanwhile).
    func markIngested(batchID: String, total: Int, invalid: Int, jobCount: Int, model: String?, nowMs: Int64) async throws
    /// Ends a batch whose input was refused as a whole.
    func failBatch(batchID: String, errors: JSONValue, nowMs: Int64) async throws
    /// Moves a running batch to `cancelling`; returns the batch as it stands afterwards (nil
    /// when there is none).
    func requestCancel(batchID: String, tenant: String, nowMs: Int64) async throws -> StoredBatch?
    /// The job ids of the batch's lines that have no result yet.
    func unfinishedJobs(batchID: String) async throws -> [String]
    /// Removes an ended batch (its files stay until deleted); returns whether there was one.
    func deleteBatch(id: String, tenant: String) async throws -> Bool
}
