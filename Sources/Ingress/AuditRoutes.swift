import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore

/// `/v1/audit/*`: the auditor's API over the ledger's hash-chained audit log.
///
/// Only `auditor` and `admin` keys read audit data; a `submitter` gets 403. An auditor sees the
/// tenant its key belongs to (there is no grant of other tenants yet); an admin sees every
/// tenant. The public key is public: anyone who checks a proof needs it.
struct AuditRoutes: Sendable {
    let reader: any AuditReader
    let keys: KeyRing

    func register(on router: Router<BasicRequestContext>) {
        router.get("/v1/audit/public-key") { _, _ in try await publicKey() }
        router.get("/v1/audit/events") { request, _ in try await events(request) }
        router.get("/v1/audit/events/:id/proof") { request, context in try await proof(request, context: context) }
        router.get("/v1/audit/verify") { request, _ in try await verify(request) }
    }

    // MARK: - Handlers

    private func publicKey() async throws -> Response {
        let keys = try await reader.auditPublicKeys()
        guard let current = keys.first else {
            throw APIError(status: .notFound, type: "not_found_error", code: "no_signing_key", message: "The ledger has not published a signing key yet.")
        }
        guard case .object(var fields) = current.json else { return IngressService.json(.ok, current) }
        fields["keys"] = .array(keys.map(\.json))
        return IngressService.json(.ok, JSONValue.object(fields))
    }

    private func events(_ request: Request) async throws -> Response {
        let principal = try auditor(request)
        let q = request.uri.queryParameters
        var query = AuditQuery(tenants: try tenants(principal, asked: q["tenant"].map(String.init)))
        query.type = q["type"].map(String.init)
        query.jobID = q["job_id"].map { String($0).lowercased() }
        query.batchID = q["batch_id"].map(String.init)
        query.keyID = q["key_id"].map(String.init)
        query.model = q["model"].map(String.init)
        query.provider = q["provider"].map(String.init)
        query.outcome = q["outcome"].map(String.init)
        query.fromMs = try Self.time(q["from"].map(String.init), param: "from")
        query.toMs = try Self.time(q["to"].map(String.init), param: "to")
        if let cursor = q["cursor"].map(String.init) {
            guard let seq = Int64(cursor), seq >= 0 else { throw APIError.invalidRequest("'cursor' is not a cursor this API gave.", param: "cursor") }
            query.afterSeq = seq
        }
        if let text = q["limit"].map(String.init) {
            guard let limit = Int(text), (1...AuditQuery.maxLimit).contains(limit) else {
                throw APIError.invalidRequest("'limit' must be an integer from 1 to \(AuditQuery.maxLimit).", param: "limit")
            }
            query.limit = limit
        }
        let page = try await reader.auditEvents(query)
        var body: [String: JSONValue] = ["object": "list", "data": .array(page.events.map(\.json))]
        body["next_cursor"] = page.nextCursor.map(JSONValue.string) ?? .null
        body["has_more"] = .bool(page.nextCursor != nil)
        return IngressService.json(.ok, JSONValue.object(body))
    }

    private func proof(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let principal = try auditor(request)
        let id = (context.parameters.get("id") ?? "").lowercased()
        guard UUIDv7.isWellFormed(id) else { throw APIError.notFound("audit event", id: id) }
        switch try await reader.auditProof(eventID: id) {
        case .notFound:
            throw APIError.notFound("audit event", id: id)
        case .pending(let tenant):
            guard sees(principal, tenant) else { throw APIError.notFound("audit event", id: id) }
            throw APIError(
                status: .conflict, type: "invalid_request_error", code: "not_checkpointed",
                message: "No signed checkpoint covers this event yet; ask again after the next checkpoint.", retryAfterSeconds: 5)
        case .proof(let proof):
            guard sees(principal, proof.event.event.tenant) else { throw APIError.notFound("audit event", id: id) }
            return IngressService.json(.ok, proof)
        }
    }

    private func verify(_ request: Request) async throws -> Response {
        let principal = try auditor(request)
        let q = request.uri.queryParameters
        let scope = try tenants(principal, asked: q["tenant"].map(String.init))
        let fromMs = try Self.time(q["from"].map(String.init), param: "from")
        let toMs = try Self.time(q["to"].map(String.init), param: "to")
        let report = try await reader.verifyAudit(tenant: scope?.first, fromMs: fromMs, toMs: toMs)
        return IngressService.json(.ok, report)
    }

    // MARK: - Access

    private func auditor(_ request: Request) throws -> Principal {
        let principal = try keys.authenticate(request.headers[.authorization])
        guard principal.role == .auditor || principal.role == .admin else {
            throw APIError.forbidden("Role '\(principal.role)' may not read the audit log; an auditor or admin key may.")
        }
        return principal
    }

    private func sees(_ principal: Principal, _ tenant: String) -> Bool {
        principal.role == .admin || principal.tenant == tenant
    }

    /// The tenants a request covers: nil for all (an admin who named none).
    private func tenants(_ principal: Principal, asked: String?) throws -> Set<String>? {
        if principal.role == .admin { return asked.map { [$0] } }
        if let asked, asked != principal.tenant {
            throw APIError.forbidden("This auditor key may read tenant '\(principal.tenant)' only.")
        }
        return [principal.tenant]
    }

    /// A time parameter: Unix milliseconds, or an RFC 3339 date-time.
    static func time(_ text: String?, param: String) throws -> Int64? {
        guard let text else { return nil }
        if let ms = Int64(text) {
            guard Wire.timestampRangeMs.contains(ms) else {
                throw APIError.invalidRequest("'\(param)' is out of range.", param: param)
            }
            return ms
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        guard let date = formatter.date(from: text) ?? plain.date(from: text) else {
            throw APIError.invalidRequest("'\(param)' must be Unix milliseconds or an RFC 3339 date-time.", param: param)
        }
        let ms = (date.timeIntervalSince1970 * 1_000).rounded()
        guard let value = Int64(exactly: ms), Wire.timestampRangeMs.contains(value) else {
            throw APIError.invalidRequest("'\(param)' is out of range.", param: param)
        }
        return value
    }
}
