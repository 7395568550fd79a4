import Foundation
import GRDB
import SluiceCore

/// Chains audit events stored before the chain existed (a ledger file upgraded by migration
/// v6), in the order they arrived (`seq`), which was the topic's partition order.
enum AuditChainBackfill {
    /// Rows chained per statement round; keeps memory flat on a large file.
    private static let pageSize = 10_000

    /// Chains every unchained event, once: a file with chain heads has been through this (the
    /// writer keeps every event chained from then on), so the scan is skipped on later opens.
    static func run(in db: Database) throws {
        guard try Bool.fetchOne(db, sql: "SELECT NOT EXISTS (SELECT 1 FROM audit_chain_heads)") ?? false else { return }
        var heads = AuditChainHeads(db: db)
        var lastSeq: Int64 = 0
        while true {
            let rows = try AuditEventRecord.fetchAll(
                db, sql: "SELECT * FROM audit_events WHERE chain_index IS NULL AND seq > ? ORDER BY seq LIMIT ?",
                arguments: [lastSeq, pageSize])
            guard let last = rows.last else { break }
            for row in rows {
                let chained = try row.chained()
                let head = try heads.head(of: row.tenant)
                let digest = AuditHashing.payloadDigest(chained.event.detail)
                let hash = AuditHashing.link(prevHash: head.hash, event: chained.event, payloadDigest: digest)
                try db.execute(
                    sql: "UPDATE audit_events SET prev_hash = ?, hash = ?, chain_index = ?, payload_digest = ? WHERE seq = ?",
                    arguments: [Data(head.hash), Data(hash), head.length + 1, Data(digest), row.seq])
                heads.set(.init(length: head.length + 1, hash: hash), of: row.tenant)
            }
            lastSeq = last.seq ?? lastSeq
        }
        try heads.flush()
    }
}
