import GRDB

extension LedgerMigrations {
    /// `v14-batch-ingest-lease`: who reads a batch's input now, and until when.
    ///
    /// An ingress that dies while it queues a batch leaves it `validating`; another process (or
    /// the same one restarted) takes the batch over once the lease has lapsed. The lease keeps
    /// two processes from queueing the same batch at once.
    static func createV14BatchIngestLease(_ db: Database) throws {
        try db.alter(table: "batches") { t in
            t.add(column: "ingest_owner", .text)
            t.add(column: "ingest_lease_until_ms", .integer)
        }
    }
}
