import Foundation
import GRDB
import SluiceCore

/// Tenants, API keys (salted hashes only), auditor grants and token counts for the ingress.
extension LedgerStore: TenantDirectory {
    public func tenancy() async throws -> TenancySnapshot {
        try await LedgerError.mapping {
            try await pool.read { db in
                let tenants = try Row.fetchAll(db, sql: """
                    SELECT id, allow_p0, sub_keys, requests_per_second, burst, max_in_flight, tokens_per_day,
                           monthly_budget, updated_at_ms FROM tenants ORDER BY id
                    """).map { row in
                    StoredTenant(
                        id: row["id"], allowP0: row["allow_p0"], subKeys: row["sub_keys"],
                        limits: TenantLimits(
                            requestsPerSecond: row["requests_per_second"], burst: row["burst"], maxInFlight: row["max_in_flight"],
                            tokensPerDay: row["tokens_per_day"], monthlyBudget: row["monthly_budget"]),
                        updatedAtMs: row["updated_at_ms"])
                }
                var grants: [String: [String]] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT key_id, tenant FROM auditor_grants ORDER BY tenant") {
                    grants[row["key_id"], default: []].append(row["tenant"])
                }
                let keys = try Row.fetchAll(db, sql: """
                    SELECT key_id, tenant, role, salt, hash, created_at_ms, expires_at_ms, revoked_at_ms
                    FROM api_keys ORDER BY created_at_ms, key_id
                    """).map { row in
                    let keyID: String = row["key_id"]
                    let salt: Data = row["salt"]
                    let hash: Data = row["hash"]
                    return StoredAPIKey(
                        keyID: keyID, tenant: row["tenant"], role: row["role"], salt: Array(salt), hash: Array(hash),
                        createdAtMs: row["created_at_ms"], expiresAtMs: row["expires_at_ms"], revokedAtMs: row["revoked_at_ms"],
                        grants: grants[keyID] ?? [])
                }
                return TenancySnapshot(tenants: tenants, keys: keys)
            }
        }
    }

    public func usage(tenant: String, day: String, monthStartMs: Int64) async throws -> TenantUsage {
        try await LedgerError.mapping {
            try await pool.read { db in
                let inFlight = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM jobs WHERE tenant = ? AND status NOT IN ('succeeded', 'failed', 'cancelled')",
                    arguments: [tenant]) ?? 0
                let tokens = try Int64.fetchOne(
                    db, sql: "SELECT tokens FROM tenant_daily_tokens WHERE tenant = ? AND day = ?", arguments: [tenant, day]) ?? 0
                let cost = try Double.fetchOne(
                    db, sql: "SELECT COALESCE(SUM(cost), 0) FROM results WHERE tenant = ? AND finished_at_ms >= ?",
                    arguments: [tenant, monthStartMs]) ?? 0
                return TenantUsage(inFlight: inFlight, tokensToday: tokens, monthCost: cost.isFinite ? cost : 0)
            }
        }
    }

    public func recordTokens(_ tokens: [String: Int64], day: String) async throws {
        guard !tokens.isEmpty else { return }
        try await LedgerError.mapping {
            try await pool.write { db in
                // Saturating: a count near Int64.max stays there rather than overflowing in SQLite.
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO tenant_daily_tokens (tenant, day, tokens) VALUES (?, ?, ?)
                    ON CONFLICT (tenant, day) DO UPDATE SET tokens = MIN(tokens + excluded.tokens, 4611686018427387903)
                    """)
                for (tenant, count) in tokens where count > 0 {
                    try statement.execute(arguments: [tenant, day, min(count, 1 << 62)])
                }
            }
        }
    }

    public func upsertTenant(_ tenant: StoredTenant) async throws {
        try await LedgerError.mapping {
            try await pool.write { db in
                let l = tenant.limits
                try db.execute(
                    sql: """
                        INSERT INTO tenants (id, allow_p0, sub_keys, requests_per_second, burst, max_in_flight, tokens_per_day,
                                             monthly_budget, updated_at_ms)
                        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                        ON CONFLICT (id) DO UPDATE SET
                            allow_p0 = COALESCE(?2, allow_p0), sub_keys = COALESCE(?3, sub_keys),
                            requests_per_second = COALESCE(?4, requests_per_second), burst = COALESCE(?5, burst),
                            max_in_flight = COALESCE(?6, max_in_flight), tokens_per_day = COALESCE(?7, tokens_per_day),
                            monthly_budget = COALESCE(?8, monthly_budget), updated_at_ms = ?9
                        """,
                    arguments: [
                        tenant.id, tenant.allowP0, tenant.subKeys, l.requestsPerSecond, l.burst, l.maxInFlight, l.tokensPerDay,
                        l.monthlyBudget, tenant.updatedAtMs,
                    ])
            }
        }
    }

    public func insertKey(_ key: StoredAPIKey) async throws {
        try await LedgerError.mapping {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO api_keys (key_id, tenant, role, salt, hash, created_at_ms, expires_at_ms, revoked_at_ms)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        key.keyID, key.tenant, key.role, Data(key.salt), Data(key.hash), key.createdAtMs, key.expiresAtMs,
                        key.revokedAtMs,
                    ])
                for tenant in Set(key.grants) {
                    try db.execute(sql: "INSERT INTO auditor_grants (key_id, tenant) VALUES (?, ?)", arguments: [key.keyID, tenant])
                }
            }
        }
    }

    public func revokeKey(keyID: String, atMs: Int64) async throws -> Bool {
        try await LedgerError.mapping {
            try await pool.write { db in
                try db.execute(
                    sql: "UPDATE api_keys SET revoked_at_ms = MIN(COALESCE(revoked_at_ms, ?1), ?1) WHERE key_id = ?2",
                    arguments: [atMs, keyID])
                return db.changesCount > 0
            }
        }
    }

    public func expireKey(keyID: String, atMs: Int64) async throws -> Bool {
        try await LedgerError.mapping {
            try await pool.write { db in
                try db.execute(sql: "UPDATE api_keys SET expires_at_ms = ? WHERE key_id = ?", arguments: [atMs, keyID])
                return db.changesCount > 0
            }
        }
    }
}
