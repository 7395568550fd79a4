import GRDB
import SluiceCore

extension LedgerTransaction {
    /// `webhook.attempt`, written by the webhook workers (the ledger does not link to them).
    static let webhookAttemptType = "webhook.attempt"

    /// Files one delivery attempt: the delivery row (created by its first attempt seen, moved
    /// on by later ones, never back) and the attempt row; a 410 disables the endpoint.
    func applyWebhookAttempt(_ event: AuditEvent) throws {
        guard let detail = event.detail, let deliveryID = detail["delivery_id"]?.stringValue else { return }
        let outcome = detail["outcome"]?.stringValue ?? "unknown"
        let status: String =
            switch outcome {
            case "delivered": "delivered"
            case "retrying": "pending"
            default: "failed"
            }
        let statusCode = detail["status_code"]?.intValue.flatMap { Int(exactly: $0) }.flatMap { (0...999).contains($0) ? $0 : nil }
        let durationMs = detail["duration_ms"]?.intValue.flatMap { Int(exactly: $0) }.map { max(0, $0) }
        try db.execute(
            sql: """
                INSERT INTO webhook_deliveries
                    (id, tenant, subject_id, type, url, endpoint_id, status, attempts, payload, created_at_ms, updated_at_ms)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                ON CONFLICT (id) DO UPDATE SET
                    status = CASE WHEN excluded.attempts >= webhook_deliveries.attempts THEN excluded.status ELSE webhook_deliveries.status END,
                    attempts = max(webhook_deliveries.attempts, excluded.attempts),
                    payload = coalesce(webhook_deliveries.payload, excluded.payload),
                    updated_at_ms = max(webhook_deliveries.updated_at_ms, excluded.updated_at_ms)
                """,
            arguments: [
                deliveryID, event.tenant, event.jobID, detail["event_type"]?.stringValue ?? "", detail["url"]?.stringValue ?? "",
                detail["endpoint_id"]?.stringValue ?? "", status, event.attempt, detail["payload"]?.stringValue,
                detail["created_at_ms"]?.intValue ?? event.atMs, event.atMs,
            ])
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO webhook_attempts (delivery_id, attempt, at_ms, outcome, status_code, error, duration_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [deliveryID, event.attempt, event.atMs, outcome, statusCode, detail["error"]?.stringValue, durationMs])
        if outcome == "endpoint_disabled", let endpoint = detail["endpoint_id"]?.stringValue {
            try db.execute(
                sql: "UPDATE webhook_endpoints SET disabled_at_ms = ? WHERE id = ? AND tenant = ? AND disabled_at_ms IS NULL",
                arguments: [event.atMs, endpoint, event.tenant])
        }
    }
}
