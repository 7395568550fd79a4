import SluiceCore

/// One thing the ledger is told, as it arrived from Kafka.
///
/// Audit events and results come from different topics and may arrive in any order; keeping
/// both in one batch type lets a single transaction apply whatever one poll of the consumer
/// returned.
public enum LedgerRecord: Sendable, Equatable {
    /// An event from `sluice.audit`: stored as is, and moves the job's status.
    case audit(AuditEvent)
    /// An outcome from `sluice.results`: stored once per job, and finishes the job.
    case result(ResultEnvelope)
}
