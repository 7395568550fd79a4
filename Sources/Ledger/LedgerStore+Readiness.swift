import GRDB

extension LedgerStore {
    /// Throws unless a write transaction can begin now: the file is writable and no other
    /// process holds its write lock beyond the busy timeout (the ledger's `/readyz`).
    ///
    /// The transaction changes nothing and commits at once; on GRDB's writer queue, so it waits
    /// behind a batch being written rather than competing with it.
    public func checkWritable() async throws {
        try await LedgerError.mapping {
            try await pool.write { db in
                // An immediate transaction has taken the write lock already; touching the schema
                // proves the file is the ledger.
                _ = try db.tableExists("jobs")
            }
        }
    }

    /// Throws unless the file opens for reading and holds every migration this version relies
    /// on (ingress's `/readyz`; the ingress only reads the ledger).
    public func checkReadable() async throws {
        let upToDate = try await LedgerError.mapping {
            try await pool.read { db in try LedgerMigrations.migrator.hasCompletedMigrations(db) }
        }
        guard upToDate else {
            throw LedgerError(code: .schemaMismatch, message: "the ledger file lacks migrations this version relies on")
        }
    }
}
