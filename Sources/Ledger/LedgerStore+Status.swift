import GRDB
import SluiceCore

/// What the status page shows from the ledger.
public struct LedgerStatus: Sendable {
    /// One tenant's share of the recent results.
    public struct TenantUsage: Sendable {
        public var tenant: String
        public var succeeded: Int
        public var failed: Int
        public var totalTokens: Int64
        /// Summed per currency; usually one.
        public var cost: [String: Double]
    }

    /// A recent failed result.
    public struct Failure: Sendable {
        public var jobID: String
        public var tenant: String
        public var model: String
        public var code: String
        public var message: String
        public var finishedAtMs: Int64
    }

    /// How many results the figures cover (at most ``LedgerStore/statusWindow``).
    public var window: Int
    public var tenants: [TenantUsage]
    public var failures: [Failure]
}

extension LedgerStore {
    /// The status page looks at this many of the newest results: bounded work per refresh on a
    /// ledger of any size (results are read backwards in insertion order, by rowid).
    public static let statusWindow = 10_000

    /// Per-tenant usage and cost of the newest ``statusWindow`` results, and their newest
    /// failures (at most `failures`).
    public func status(failures limit: Int = 20) async throws -> LedgerStatus {
        let limit = min(max(0, limit), 1_000)
        return try await LedgerError.mapping {
            try await pool.read { db in
                let recent = "SELECT * FROM results ORDER BY rowid DESC LIMIT \(Self.statusWindow)"
                let window = try Int.fetchOne(db, sql: "SELECT count(*) FROM (\(recent))") ?? 0
                var usage: [String: LedgerStatus.TenantUsage] = [:]
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT tenant, status, count(*) AS n, coalesce(sum(total_tokens), 0) AS tokens,
                               sum(cost) AS cost, currency
                        FROM (\(recent)) GROUP BY tenant, status, currency
                        """)
                for row in rows {
                    let tenant: String = row["tenant"]
                    var entry = usage[tenant] ?? .init(tenant: tenant, succeeded: 0, failed: 0, totalTokens: 0, cost: [:])
                    let n: Int = row["n"]
                    switch row["status"] as String {
                    case JobStatus.succeeded.rawValue: entry.succeeded += n
                    case JobStatus.failed.rawValue: entry.failed += n
                    default: break
                    }
                    entry.totalTokens = entry.totalTokens.addingReportingOverflow(row["tokens"] as Int64).partialValue
                    if let cost = row["cost"] as Double?, cost.isFinite {
                        let currency = (row["currency"] as String?) ?? "USD"
                        entry.cost[currency, default: 0] += cost
                    }
                    usage[tenant] = entry
                }
                let failures = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT job_id, tenant, model, finished_at_ms,
                               coalesce(json_extract(error, '$.code'), json_extract(error, '$.type'), '') AS code,
                               coalesce(json_extract(error, '$.message'), '') AS message
                        FROM (\(recent)) WHERE status = 'failed' AND json_valid(coalesce(error, 'null'))
                        ORDER BY finished_at_ms DESC LIMIT \(limit)
                        """
                ).map { row in
                    LedgerStatus.Failure(
                        jobID: row["job_id"], tenant: row["tenant"], model: row["model"], code: row["code"],
                        message: Truncation.prefix(row["message"] as String, maxBytes: 300), finishedAtMs: row["finished_at_ms"])
                }
                return LedgerStatus(window: window, tenants: usage.values.sorted { $0.tenant < $1.tenant }, failures: failures)
            }
        }
    }
}
