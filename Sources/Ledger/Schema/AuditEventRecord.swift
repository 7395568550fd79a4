import Foundation
import GRDB
import SluiceCore

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
    /// The audit hash chain (see `AuditHashing`); nil only for rows stored before the chain
    /// existed, until the writer opens the file and chains them.
    var prevHash: Data?
    var hash: Data?
    var chainIndex: Int64?
    var payloadDigest: Data?
    var kafkaPartition: Int64?
    var kafkaOffset: Int64?
    /// When the payload (`detail`) was purged; `payload_digest` still stands for it.
    var purgedAtMs: Int64?
    /// The event's run of the job (`AuditEvent.replay`).
    var replay: Int

    enum CodingKeys: String, CodingKey {
        case seq, id, tenant, type, attempt, actor, detail, hash
        case jobID = "job_id"
        case atMs = "at_ms"
        case prevHash = "prev_hash"
        case chainIndex = "chain_index"
        case payloadDigest = "payload_digest"
        case kafkaPartition = "kafka_partition"
        case kafkaOffset = "kafka_offset"
        case purgedAtMs = "purged_at_ms"
        case replay
    }

    /// The insert of the writer's hot path, as one prepared statement (`cachedStatement`); a
    /// second copy of an id changes nothing.
    static let insertIgnoring = """
        INSERT OR IGNORE INTO audit_events
            (id, tenant, job_id, type, attempt, at_ms, actor, detail, prev_hash, hash, chain_index, payload_digest,
             kafka_partition, kafka_offset, replay)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// The chained event this row holds.
    func chained() throws -> ChainedAuditEvent {
        let detail = try StoredJSON.value(JSONValue.self, from: detail)
        let event = AuditEvent(
            id: id, type: AuditEventType(rawValue: type), tenant: tenant, jobID: jobID, attempt: attempt, atMs: atMs,
            actor: actor, detail: detail, replay: replay)
        let digest: [UInt8] = payloadDigest.map { Array($0) } ?? []
        let prev: [UInt8] = prevHash.map { Array($0) } ?? []
        let own: [UInt8] = hash.map { Array($0) } ?? []
        return ChainedAuditEvent(
            event: event, seq: seq ?? 0, chainIndex: chainIndex ?? 0, payloadDigest: digest, prevHash: prev, hash: own,
            payloadPurged: purgedAtMs != nil)
    }
}
