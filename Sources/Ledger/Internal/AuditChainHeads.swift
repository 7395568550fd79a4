import Foundation
import GRDB

/// The chain heads a write transaction reads and moves: each tenant's head is read once (a
/// prepared statement) and written once at the end, however many of its events the batch holds.
struct AuditChainHeads {
    struct Head {
        var length: Int64
        var hash: [UInt8]
    }

    static let select = "SELECT length, hash FROM audit_chain_heads WHERE tenant = ?"
    static let upsert = """
        INSERT INTO audit_chain_heads (tenant, length, hash) VALUES (?, ?, ?)
        ON CONFLICT (tenant) DO UPDATE SET length = excluded.length, hash = excluded.hash
        """

    private let db: Database
    private var heads: [String: Head] = [:]
    private var dirty: Set<String> = []

    init(db: Database) {
        self.db = db
    }

    /// The tenant's head: from this transaction, the table, or the genesis of a new chain.
    mutating func head(of tenant: String) throws -> Head {
        if let head = heads[tenant] { return head }
        var head = Head(length: 0, hash: AuditHashing.genesis)
        if let row = try Row.fetchOne(db.cachedStatement(sql: Self.select), arguments: [tenant]) {
            let hash: Data = row[1]
            head = Head(length: row[0], hash: Array(hash))
        }
        heads[tenant] = head
        return head
    }

    mutating func set(_ head: Head, of tenant: String) {
        heads[tenant] = head
        dirty.insert(tenant)
    }

    func flush() throws {
        for tenant in dirty {
            guard let head = heads[tenant] else { continue }
            try db.cachedStatement(sql: Self.upsert).execute(arguments: [tenant, head.length, Data(head.hash)])
        }
    }
}
