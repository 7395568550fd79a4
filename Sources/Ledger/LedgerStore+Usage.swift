import GRDB
import SluiceCore

/// Per-tenant usage and cost reports from the ledger's results (issue 9): what each tenant's
/// jobs consumed, by UTC day, model and API key.
extension LedgerStore {
    /// What a report row is grouped by.
    public enum UsageGrouping: String, Sendable, CaseIterable {
        case day, model, key
    }

    /// One group of finished jobs.
    public struct UsageRow: Sendable, Equatable {
        public var tenant: String
        /// `YYYY-MM-DD` (UTC) when grouped by day.
        public var day: String?
        public var model: String?
        /// The ledger key's id when grouped by key; `config` for config-file keys (which have none).
        public var keyID: String?
        public var jobs: Int
        public var succeeded: Int
        public var promptTokens: Int64
        public var completionTokens: Int64
        /// Sum of recorded costs; nil when no job of the group has one.
        public var cost: Double?
        public var currency: String?
    }

    /// Finished jobs (those with a result) of `tenant` (every tenant when nil) whose result was
    /// recorded in `[fromMs, toMs)`, grouped by tenant and `groupBy`, in a stable order.
    ///
    /// The key comes from the job's `job.accepted` event (`key_id`, stamped by the ingress).
    public func usage(tenant: String?, fromMs: Int64?, toMs: Int64?, groupBy: [UsageGrouping]) async throws -> [UsageRow] {
        let groups = Set(groupBy)
        var columns = ["r.tenant"]
        if groups.contains(.day) { columns.append("date(r.finished_at_ms / 1000, 'unixepoch')") } else { columns.append("NULL") }
        if groups.contains(.model) { columns.append("r.model") } else { columns.append("NULL") }
        if groups.contains(.key) {
            columns.append("""
                COALESCE((SELECT json_extract(a.detail, '$.key_id') FROM audit_events a
                          WHERE a.job_id = r.job_id AND a.type = 'job.accepted' LIMIT 1), 'config')
                """)
        } else {
            columns.append("NULL")
        }
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let tenant {
            conditions.append("r.tenant = ?")
            arguments += [tenant]
        }
        if let fromMs {
            conditions.append("r.finished_at_ms >= ?")
            arguments += [fromMs]
        }
        if let toMs {
            conditions.append("r.finished_at_ms < ?")
            arguments += [toMs]
        }
        let sql = """
            SELECT \(columns[0]) AS g_tenant, \(columns[1]) AS g_day, \(columns[2]) AS g_model, \(columns[3]) AS g_key,
                   COUNT(*), SUM(r.status = 'succeeded'),
                   COALESCE(SUM(r.prompt_tokens), 0), COALESCE(SUM(r.completion_tokens), 0),
                   SUM(r.cost), MAX(r.currency)
            FROM results r
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            GROUP BY g_tenant, g_day, g_model, g_key
            ORDER BY g_tenant, g_day, g_model, g_key
            """
        let finalArguments = arguments
        return try await LedgerError.mapping {
            try await pool.read { db in
                try Row.fetchAll(db, sql: sql, arguments: finalArguments).map { row in
                    UsageRow(
                        tenant: row[0], day: row[1], model: row[2], keyID: row[3], jobs: row[4], succeeded: row[5],
                        promptTokens: row[6], completionTokens: row[7], cost: row[8], currency: row[9])
                }
            }
        }
    }
}
