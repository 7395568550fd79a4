import GRDB
import SluiceCore

extension LedgerStore: WebhookRegistry, WebhookEndpointDirectory {
    public func register(_ endpoint: WebhookEndpoint, createdAtMs: Int64) async throws {
        try await LedgerError.mapping {
            try await pool.write { [cipher] db in
                let secrets = try Self.sealedSecrets(endpoint, cipher: cipher, nowMs: createdAtMs, in: db)
                try db.execute(
                    sql: """
                        INSERT INTO webhook_endpoints (id, tenant, url, secrets, events, created_at_ms, disabled_at_ms)
                        VALUES (?, ?, ?, ?, ?, ?, NULL)
                        """,
                    arguments: [
                        endpoint.id, endpoint.tenant, endpoint.url, secrets,
                        endpoint.events.sorted().joined(separator: ","), createdAtMs,
                    ])
            }
        }
    }

    public func registeredEndpoints(tenant: String) async throws -> [WebhookEndpoint] {
        try await LedgerError.mapping {
            try await pool.read { [cipher] db in
                try Row.fetchAll(
                    db, sql: "SELECT id, url, secrets, events, disabled_at_ms FROM webhook_endpoints WHERE tenant = ? ORDER BY created_at_ms, id",
                    arguments: [tenant]
                ).compactMap { row in
                    let id: String = row["id"]
                    // An erased tenant's endpoints have no secrets left to sign with: not served.
                    guard let secrets = try Self.openedSecrets(row["secrets"], tenant: tenant, endpointID: id, cipher: cipher, in: db)
                    else { return nil }
                    let events: String = row["events"]
                    let disabledAt: Int64? = row["disabled_at_ms"]
                    return WebhookEndpoint(
                        id: id, tenant: tenant, url: row["url"], secrets: secrets,
                        events: Set(events.split(separator: ",").map(String.init)), disabled: disabledAt != nil)
                }
            }
        }
    }

    static let secretsColumn = "webhook_endpoints.secrets"

    /// The endpoint's signing secrets as stored: sealed under the tenant's data key (bound to
    /// the endpoint id) when the ledger encrypts payloads, so that the file holds no usable
    /// secret; space-separated `whsec_…` otherwise.
    private static func sealedSecrets(_ endpoint: WebhookEndpoint, cipher: PayloadCipher?, nowMs: Int64, in db: Database) throws -> String {
        let text = endpoint.secrets.map(\.text).joined(separator: " ")
        guard let cipher else { return text }
        guard let sealed = try cipher.sealText(
            text, tenant: endpoint.tenant, jobID: endpoint.id, column: secretsColumn, nowMs: nowMs, in: db)
        else {
            throw LedgerError(code: .configuration, message: "tenant '\(endpoint.tenant)' was erased; its data key is gone")
        }
        return sealed
    }

    /// The signing secrets of a stored row (sealed, or in clear from before sealing); nil for
    /// an erased tenant.
    ///
    /// - Throws: `LedgerError` when sealed secrets cannot be opened (no master key here, or a
    ///   row altered or moved): an endpoint must not be served without its secrets.
    private static func openedSecrets(
        _ stored: String, tenant: String, endpointID: String, cipher: PayloadCipher?, in db: Database
    ) throws -> [WebhookSecret]? {
        let text: String
        if stored.hasPrefix(PayloadCipher.textPrefix) {
            guard let cipher else {
                throw LedgerError(
                    code: .configuration, message: "webhook endpoint \(endpointID) has sealed secrets and this process has no master key")
            }
            guard let opened = try cipher.openText(stored, tenant: tenant, jobID: endpointID, column: secretsColumn, in: db) else {
                return nil
            }
            text = opened
        } else {
            text = stored
        }
        let secrets = text.split(separator: " ").compactMap { WebhookSecret(String($0)) }
        guard !secrets.isEmpty else {
            throw LedgerError(code: .encoding, message: "webhook endpoint \(endpointID) has no readable signing secret")
        }
        return secrets
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
