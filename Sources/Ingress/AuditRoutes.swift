import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore

/// `/v1/audit/*`: the auditor's API over the ledger's hash-chained audit log.
///
/// Only `auditor` and `admin` keys read audit data; a `submitter` gets 403. An auditor sees the
/// tenants it is granted (a config-file auditor key: its own tenant unless it lists `grants`; a
/// key made with `sluice keys create --grant`: exactly those, none without); an admin sees every
/// tenant. The public key is public: anyone who checks a proof needs it.
struct AuditRoutes: Sendable {
    let reader: any AuditReader
    let keys: KeyRing

    /// The collection, to be added at `/v1/audit`.
    func collection() -> RouteCollection<SluiceRequestContext> {
        let open = RouteCollection(context: SluiceRequestContext.self)
        open.get("public-key") { _, _ in try await publicKey() }
        let routes = RouteCollection(context: SluiceRequestContext.self)
        routes.add(middleware: AuthMiddleware(keys: keys))
        routes.get("events") { request, context in try await events(request, context: context) }
        routes.get("events/:id/proof") { request, context in try await proof(request, context: context) }
        routes.get("verify") { request, context in try await verify(request, context: context) }
        return open.addRoutes(routes)
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

    private func events(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try auditor(context)
        let q = request.uri.queryParameters
        let scope = try tenants(principal, asked: q["tenant"].map(String.init))
        var query = AuditQuery(tenants: scope)
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
        // An auditor without grants sees nothing (and SQL gets no empty IN list).
        let page = scope?.isEmpty == true ? AuditEventPage(events: [], nextCursor: nil) : try await reader.auditEvents(query)
        var body: [String: JSONValue] = ["object": "list", "data": .array(page.events.map(\.json))]
        body["next_cursor"] = page.nextCursor.map(JSONValue.string) ?? .null
        body["has_more"] = .bool(page.nextCursor != nil)
        return IngressService.json(.ok, JSONValue.object(body))
    }

    private func proof(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try auditor(context)
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

    private func verify(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try auditor(context)
        let q = request.uri.queryParameters
        let scope = try tenants(principal, asked: q["tenant"].map(String.init))
        if let scope, scope.count != 1 {
            guard !scope.isEmpty else { throw APIError.forbidden("This auditor key is granted no tenant.") }
            throw APIError.invalidRequest("This key reads several tenants; name one with 'tenant'.", param: "tenant", code: "missing_required_parameter")
        }
        let fromMs = try Self.time(q["from"].map(String.init), param: "from")
        let toMs = try Self.time(q["to"].map(String.init), param: "to")
        let report = try await reader.verifyAudit(tenant: scope?.first, fromMs: fromMs, toMs: toMs)
        return IngressService.json(.ok, report)
    }

    // MARK: - Access

    private func auditor(_ context: SluiceRequestContext) throws -> Principal {
        let principal = try context.caller()
        guard principal.role == .auditor || principal.role == .admin else {
            throw APIError.forbidden("Role '\(principal.role)' may not read the audit log; an auditor or admin key may.")
        }
        return principal
    }

    private func sees(_ principal: Principal, _ tenant: String) -> Bool {
        principal.reads(tenant)
    }

    /// The tenants a request covers: nil for all (an admin who named none); empty for an
    /// auditor granted none.
    private func tenants(_ principal: Principal, asked: String?) throws -> Set<String>? {
        if principal.role == .admin { return asked.map { [$0] } }
        if let asked {
            guard principal.grants.contains(asked) else {
                throw APIError.forbidden("This auditor key is not granted tenant '\(asked)'.")
            }
            return [asked]
        }
        return principal.grants
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
