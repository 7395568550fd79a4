import GRDB

extension LedgerMigrations {
    /// `v15-job-injection-flags`: the prompt-injection flags the ingress raised on a job
    /// (`[{"field", "flag"}]` as JSON text, from its `job.accepted` event), so that the job
    /// itself shows them, not only its audit trail.
    static func createV15JobInjectionFlags(_ db: Database) throws {
        try db.alter(table: "jobs") { t in
            t.add(column: "injection_flags", .text)
        }
    }
}
