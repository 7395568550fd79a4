import GRDB
import SluiceCore

extension LedgerStore: WebhookRegistry, WebhookEndpointDirectory {
    public func register(_ endpoint: WebhookEndpoint, createdAtMs: Int64) async throws {
        try await LedgerError.mapping {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO webhook_endpoints (id, tenant, url, secrets, events, created_at_ms, disabled_at_ms)
                        VALUES (?, ?, ?, ?, ?, ?, NULL)
                        """,
                    arguments: [
                        endpoint.id, endpoint.tenant, endpoint.url, endpoint.secrets.map(\.text).joined(separator: " "),
                        endpoint.events.sorted().joined(separator: ","), createdAtMs,
                    ])
            }
        }
    }

    public func registeredEndpoints(tenant: String) async throws -> [WebhookEndpoint] {
        try await LedgerError.mapping {
            try await pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT id, url, secrets, events, disabled_at_ms FROM webhook_endpoints WHERE tenant = ? ORDER BY created_at_ms, id",
                    arguments: [tenant]
                ).map { row in
                    let secrets: String = row["secrets"]
                    let events: String = row["events"]
                    let disabledAt: Int64? = row["disabled_at_ms"]
                    return WebhookEndpoint(
                        id: row["id"], tenant: tenant, url: row["url"],
                        secrets: secrets.split(separator: " ").compactMap { WebhookSecret(String($0)) },
                        events: Set(events.split(separator: ",").map(String.init)), disabled: disabledAt != nil)
                }
            }
        }
    }

    public func endpoints(tenant: String) async throws -> [WebhookEndpoint] {
        try await registeredEndpoints(tenant: tenant)
    }

    public func deleteEndpoint(id: String, tenant: String) async throws -> Bool {
        try await LedgerError.mapping {
            try await pool.write { db in
                try db.execute(sql: "DELETE FROM webhook_endpoints WHERE id = ? AND tenant = ?", arguments: [id, tenant])
                return db.changesCount > 0
            }
        }
    }

    public func deliveries(tenant: String, subjectID: String?, limit: Int, beforeMs: Int64?) async throws -> [WebhookDeliveryView] {
        let limit = min(max(limit, 1), 1_000)
        return try await LedgerError.mapping {
            try await pool.read { db in
                var sql = "SELECT * FROM webhook_deliveries WHERE tenant = ?"
                var arguments: StatementArguments = [tenant]
                if let subjectID {
                    sql += " AND subject_id = ?"
                    arguments += [subjectID]
                }
                if let beforeMs {
                    sql += " AND created_at_ms < ?"
                    arguments += [beforeMs]
                }
                sql += " ORDER BY created_at_ms DESC, id LIMIT ?"
                arguments += [limit]
                return try Row.fetchAll(db, sql: sql, arguments: arguments).map { try Self.deliveryView($0, db: db, withPayload: false) }
            }
        }
    }

    public func delivery(id: String, tenant: String) async throws -> WebhookDeliveryView? {
        try await LedgerError.mapping {
            try await pool.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM webhook_deliveries WHERE id = ? AND tenant = ?", arguments: [id, tenant])
                    .map { try Self.deliveryView($0, db: db, withPayload: true) }
            }
        }
    }

    private static func deliveryView(_ row: Row, db: Database, withPayload: Bool) throws -> WebhookDeliveryView {
        let id: String = row["id"]
        let attempts = try Row.fetchAll(
            db, sql: "SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt", arguments: [id]
        ).map { a in
            WebhookDeliveryView.Attempt(
                attempt: a["attempt"], atMs: a["at_ms"], outcome: a["outcome"], statusCode: a["status_code"], error: a["error"],
                durationMs: a["duration_ms"])
        }
        return WebhookDeliveryView(
            id: id, tenant: row["tenant"], subjectID: row["subject_id"], type: row["type"], url: row["url"], endpointID: row["endpoint_id"],
            status: row["status"], createdAtMs: row["created_at_ms"], updatedAtMs: row["updated_at_ms"],
            payload: withPayload ? row["payload"] : nil, attempts: attempts)
    }
}
