/// Who reads and queues a batch's input now (ledger columns `ingest_owner`,
/// `ingest_lease_until_ms`, migration `v14-batch-ingest-lease`).
///
/// An ingest holds a lease on its batch and renews it while it reads. A process that dies
/// mid-ingest leaves the batch `validating` with a lease that lapses; any batch service (the
/// same process restarted, or another one on the same ledger) then takes the batch over and
/// resumes it. Taking a lease is one conditional update, so two processes never hold it at once.
public protocol BatchIngestLeases: Sendable {
    /// Batches whose input is not fully queued (`validating` or `cancelling`, not ingested) and
    /// that nobody holds: the lease lapsed before `nowMs`, or none was ever taken and the batch
    /// was created before `unclaimedBeforeMs` (its creator died before it began).
    func orphanedIngests(nowMs: Int64, unclaimedBeforeMs: Int64) async throws -> [StoredBatch]
    /// Takes the lease for `owner` until `untilMs` if the batch still needs its ingest and
    /// nobody else holds a live lease; returns whether it did.
    func claimIngest(batchID: String, owner: String, nowMs: Int64, untilMs: Int64) async throws -> Bool
    /// Extends `owner`'s lease; returns false when the lease is no longer `owner`'s.
    func renewIngest(batchID: String, owner: String, untilMs: Int64) async throws -> Bool
    /// The job ids of the lines recorded so far: a line's jobs are queued only after its line
    /// was recorded, so no other job of the batch can be on the broker.
    func recordedJobIDs(batchID: String) async throws -> Set<String>
}
