import Foundation
import GRDB

/// A row of `audit_events`: one audit event as stored, in storage types.
struct AuditEventRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "audit_events"

    /// Assigned by SQLite on insert; nil before.
    var seq: Int64?
    var id: String
    var tenant: String
    var jobID: String
    var type: String
    var attempt: Int
    var atMs: Int64
    var actor: String
    /// The event's `detail`, as JSON text.
    var detail: String?
    /// Reserved for the audit hash chain; nil until it is computed.
    var prevHash: Data?
    var hash: Data?

    enum CodingKeys: String, CodingKey {
        case seq, id, tenant, type, attempt, actor, detail, hash
        case jobID = "job_id"
        case atMs = "at_ms"
        case prevHash = "prev_hash"
    }
}
