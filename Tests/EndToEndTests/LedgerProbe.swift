import GRDB

/// Reads a ledger file the way an auditor would: plain SQL over the tables.
struct LedgerProbe {
    let queue: DatabaseQueue

    init(path: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        queue = try DatabaseQueue(path: path, configuration: configuration)
    }

    func int(_ sql: String, _ arguments: [String] = []) throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: sql, arguments: StatementArguments(arguments)) ?? 0 }
    }

    /// job id → how many rows `sql` (selecting job_id) returns for it.
    func countsByJob(_ sql: String) throws -> [String: Int] {
        try queue.read { db in
            var counts: [String: Int] = [:]
            for id in try String.fetchAll(db, sql: sql) { counts[id, default: 0] += 1 }
            return counts
        }
    }
}

extension LedgerProbe {
    func string(_ sql: String, _ arguments: [String] = []) throws -> String? {
        try queue.read { db in try String.fetchOne(db, sql: sql, arguments: StatementArguments(arguments)) }
    }

    func double(_ sql: String, _ arguments: [String] = []) throws -> Double? {
        try queue.read { db in try Double.fetchOne(db, sql: sql, arguments: StatementArguments(arguments)) }
    }
}
