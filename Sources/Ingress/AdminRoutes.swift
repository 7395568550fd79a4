import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SluiceCore

/// `/v1/admin/*`: tenants, their limits and API keys, for `admin` keys only.
///
/// Changes go to the ledger's tables; this process re-reads them at once, and a revocation,
/// expiry or tenant change is announced on `sluice.control` so that every other ingress applies
/// it as soon as the event arrives (and at the latest at its next re-read, within
/// `ingress.tenancy_refresh_ms`). A new key is shown once, in the 201 answer; afterwards only its
/// key id and salted hash exist.
struct AdminRoutes: Sendable {
    let directory: any TenantDirectory
    let keys: KeyRing
    let policies: TenantPolicies
    let clock: WallClock
    let refresh: TenancyRefresher?
    /// Publishes the control events; nil announces nothing (the re-read still spreads changes).
    var announcer: JobEnqueuer? = nil
    var logger: Logger = Logger(label: "sluice.admin")

    /// The collection, to be added at `/v1/admin`.
    func collection() -> RouteCollection<SluiceRequestContext> {
        let routes = RouteCollection(context: SluiceRequestContext.self)
        routes.add(middleware: AuthMiddleware(keys: keys))
        routes.get("tenants") { _, context in try listTenants(context) }
        routes.get("tenants/:tenant") { _, context in try showTenant(context) }
        routes.patch("tenants/:tenant") { request, context in try await updateTenant(request, context: context) }
        routes.get("keys") { request, context in try await listKeys(request, context: context) }
        routes.post("keys") { request, context in try await createKey(request, context: context) }
        routes.post("keys/:key_id/revoke") { _, context in try await revoke(context) }
        routes.post("keys/:key_id/expire") { request, context in try await expire(request, context: context) }
        return routes
    }

    // MARK: - Tenants

    private func listTenants(_ context: SluiceRequestContext) throws -> Response {
        try admin(context)
        let data = policies.tenantIDs().map { Self.tenantJSON($0, policies.policy($0)) }
        return IngressService.json(.ok, JSONValue.object(["object": "list", "data": .array(data)]))
    }

    private func showTenant(_ context: SluiceRequestContext) throws -> Response {
        try admin(context)
        let id = try tenantParameter(context)
        return IngressService.json(.ok, Self.tenantJSON(id, policies.policy(id)))
    }

    /// Sets the fields the body names (`allow_p0`, `sub_keys`, `limits.{…}`); absent fields
    /// keep their value.
    private func updateTenant(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        try admin(context)
        let id = try tenantParameter(context)
        let body = try await Self.body(request, context: context)
        var row = StoredTenant(id: id, updatedAtMs: clock.nowMs())
        for key in body.keys where !["allow_p0", "sub_keys", "limits"].contains(key) {
            throw APIError.invalidRequest("Unknown field '\(key)'.", param: key, code: "unknown_parameter")
        }
        if let value = body["allow_p0"], !value.isNull {
            guard case .bool(let allow) = value else { throw APIError.invalidRequest("'allow_p0' must be a boolean.", param: "allow_p0", code: "invalid_type") }
            row.allowP0 = allow
        }
        if let value = body["sub_keys"], !value.isNull {
            row.subKeys = try Self.integer(value, param: "sub_keys", in: TenantPolicy.subKeysRange)
        }
        if let value = body["limits"], !value.isNull {
            guard case .object(let limits) = value else { throw APIError.invalidRequest("'limits' must be an object.", param: "limits", code: "invalid_type") }
            for key in limits.keys where !["requests_per_second", "burst", "max_in_flight", "tokens_per_day", "monthly_budget"].contains(key) {
                throw APIError.invalidRequest("Unknown field 'limits.\(key)'.", param: "limits.\(key)", code: "unknown_parameter")
            }
            var l = TenantLimits()
            l.requestsPerSecond = try limits["requests_per_second"].flatMap { v throws(APIError) in
                try Self.number(v, param: "limits.requests_per_second", in: TenantLimits.requestsPerSecondRange)
            }
            l.burst = try limits["burst"].flatMap { v throws(APIError) in try Self.integer(v, param: "limits.burst", in: TenantLimits.burstRange) }
            l.maxInFlight = try limits["max_in_flight"].flatMap { v throws(APIError) in
                try Self.integer(v, param: "limits.max_in_flight", in: TenantLimits.maxInFlightRange)
            }
            l.tokensPerDay = try limits["tokens_per_day"].flatMap { v throws(APIError) in
                try Self.integer(v, param: "limits.tokens_per_day", in: TenantLimits.tokensPerDayRange)
            }
            l.monthlyBudget = try limits["monthly_budget"].flatMap { v throws(APIError) in
                try Self.number(v, param: "limits.monthly_budget", in: TenantLimits.monthlyBudgetRange)
            }
            row.limits = l
        }
        try await directory.upsertTenant(row)
        await refresh?.refresh()
        await announce { ControlEvent.tenantChanged(tenant: id, requestedAtMs: row.updatedAtMs, actor: $0) }
        return IngressService.json(.ok, Self.tenantJSON(id, policies.policy(id)))
    }

    // MARK: - Keys

    private func listKeys(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        try admin(context)
        let tenant = request.uri.queryParameters["tenant"].map(String.init)
        let nowMs = clock.nowMs()
        let data = try await directory.tenancy().keys.filter { tenant == nil || $0.tenant == tenant }.map { Self.keyJSON($0, nowMs: nowMs) }
        return IngressService.json(.ok, JSONValue.object(["object": "list", "data": .array(data)]))
    }

    /// `{tenant, role, expires_at?, grants?}` → 201 with the key, shown this once.
    private func createKey(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        try admin(context)
        let body = try await Self.body(request, context: context)
        for key in body.keys where !["tenant", "role", "expires_at", "grants"].contains(key) {
            throw APIError.invalidRequest("Unknown field '\(key)'.", param: key, code: "unknown_parameter")
        }
        guard case .string(let tenant)? = body["tenant"], TenantID.isValid(tenant) else {
            throw APIError.invalidRequest("'tenant' must be 1 to 64 letters, digits, '-', '_' or '.'.", param: "tenant")
        }
        let role = body["role"]?.stringValue ?? "submitter"
        guard Principal.Role(role) != nil else {
            throw APIError.invalidRequest("'role' must be submitter, auditor or admin.", param: "role")
        }
        var expiresAtMs: Int64?
        if let value = body["expires_at"], !value.isNull {
            let text: String
            switch value {
            case .string(let s): text = s
            case .int(let i): text = String(i)
            default: throw APIError.invalidRequest("'expires_at' must be Unix milliseconds or an RFC 3339 date-time.", param: "expires_at")
            }
            expiresAtMs = try AuditRoutes.time(text, param: "expires_at")
        }
        var grants: [String] = []
        if let value = body["grants"], !value.isNull {
            guard case .array(let items) = value, items.count <= 1_000 else {
                throw APIError.invalidRequest("'grants' must be an array of at most 1000 tenant ids.", param: "grants", code: "invalid_type")
            }
            for (index, item) in items.enumerated() {
                guard case .string(let id) = item, TenantID.isValid(id) else {
                    throw APIError.invalidRequest("'grants[\(index)]' must be a tenant id.", param: "grants[\(index)]")
                }
                grants.append(id)
            }
        }
        let made = APIKeyFormat.generate(tenant: tenant, role: role, nowMs: clock.nowMs(), expiresAtMs: expiresAtMs, grants: grants)
        try await directory.insertKey(made.stored)
        await refresh?.refresh()
        guard case .object(var fields) = Self.keyJSON(made.stored, nowMs: clock.nowMs()) else { return IngressService.json(.created, JSONValue.string(made.stored.keyID)) }
        fields["key"] = .string(made.key)
        return IngressService.json(.created, JSONValue.object(fields))
    }

    private func revoke(_ context: SluiceRequestContext) async throws -> Response {
        try admin(context)
        let keyID = context.parameters.get("key_id") ?? ""
        let nowMs = clock.nowMs()
        guard try await directory.revokeKey(keyID: keyID, atMs: nowMs) else { throw APIError.notFound("key", id: keyID) }
        await refresh?.refresh()
        let key = try await storedKey(keyID)
        await announce { ControlEvent.keyRevoked(keyID: keyID, tenant: key.tenant, atMs: key.revokedAtMs ?? nowMs, actor: $0) }
        return IngressService.json(.ok, Self.keyJSON(key, nowMs: clock.nowMs()))
    }

    /// `{at?}`: the key stops working at `at` (default: now).
    private func expire(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        try admin(context)
        let keyID = context.parameters.get("key_id") ?? ""
        var atMs = clock.nowMs()
        if request.headers[.contentLength].flatMap(Int.init) ?? 0 > 0 || request.headers[.transferEncoding] != nil {
            let body = try await Self.body(request, context: context)
            if let value = body["at"], !value.isNull {
                let text = value.stringValue ?? value.intValue.map { String($0) } ?? ""
                atMs = try AuditRoutes.time(text, param: "at") ?? atMs
            }
        }
        guard try await directory.expireKey(keyID: keyID, atMs: atMs) else { throw APIError.notFound("key", id: keyID) }
        await refresh?.refresh()
        let key = try await storedKey(keyID)
        await announce { ControlEvent.keyExpires(keyID: keyID, tenant: key.tenant, atMs: atMs, requestedAtMs: clock.nowMs(), actor: $0) }
        return IngressService.json(.ok, Self.keyJSON(key, nowMs: clock.nowMs()))
    }

    private func storedKey(_ keyID: String) async throws -> StoredAPIKey {
        guard let key = try await directory.tenancy().keys.first(where: { $0.keyID == keyID }) else { throw APIError.notFound("key", id: keyID) }
        return key
    }

    /// Publishes a control event made by `event` (given the actor). A failure is logged, not
    /// answered: the change is in the ledger already, and every ingress re-reads it within
    /// `ingress.tenancy_refresh_ms`.
    private func announce(_ event: (String) -> ControlEvent) async {
        guard let announcer else { return }
        let made = event(announcer.actor)
        do {
            // A few tries: a broker that is slow for a moment should not leave the other
            // ingresses waiting for their next re-read.
            try await announcer.announce(made, attempts: 3)
        } catch {
            logger.warning(
                "change not announced on the control topic; other ingresses apply it at their next re-read of the tables",
                metadata: ["kind": "\(made.kind)", "error": "\(error)"])
        }
    }

    // MARK: - Helpers

    private func admin(_ context: SluiceRequestContext) throws {
        let principal = try context.caller()
        guard principal.role == .admin else { throw APIError.forbidden("Role '\(principal.role)' may not manage tenants or keys; an admin key may.") }
    }

    private func tenantParameter(_ context: SluiceRequestContext) throws -> String {
        let id = context.parameters.get("tenant") ?? ""
        guard TenantID.isValid(id) else { throw APIError.notFound("tenant", id: String(id.prefix(64))) }
        return id
    }

    private static func body(_ request: Request, context: SluiceRequestContext) async throws -> [String: JSONValue] {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: context.maxUploadSize)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.tooLarge(limit: context.maxUploadSize)
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(Array(buffer.readableBytesView), rejectingDuplicateKeys: true)
        } catch {
            throw APIError.invalidRequest("The request body is not valid JSON: \(error).", param: error.path.isEmpty ? nil : error.path, code: "invalid_json")
        }
        guard case .object(let fields) = value else { throw APIError.invalidRequest("The request body must be a JSON object.", code: "invalid_json") }
        return fields
    }

    private static func integer(_ value: JSONValue, param: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        if value.isNull { return nil }
        guard let i = value.intValue, let n = Int(exactly: i), range.contains(n) else {
            throw .invalidRequest("'\(param)' must be an integer from \(range.lowerBound) to \(range.upperBound).", param: param)
        }
        return n
    }

    private static func number(_ value: JSONValue, param: String, in range: ClosedRange<Double>) throws(APIError) -> Double? {
        let d: Double?
        switch value {
        case .null: return nil
        case .int(let i): d = Double(i)
        case .double(let x): d = x
        default: d = nil
        }
        guard let d, d.isFinite, range.contains(d) else {
            throw .invalidRequest("'\(param)' must be a number from \(range.lowerBound) to \(range.upperBound).", param: param)
        }
        return d
    }

    static func tenantJSON(_ id: String, _ policy: TenantPolicy) -> JSONValue {
        var limits = JSONObjectWriter()
        let l = policy.limits
        limits.set("requests_per_second", l.requestsPerSecond.map(JSONValue.double))
        limits.set("burst", l.burst.map { JSONValue.int(Int64($0)) })
        limits.set("max_in_flight", l.maxInFlight.map { JSONValue.int(Int64($0)) })
        limits.set("tokens_per_day", l.tokensPerDay.map { JSONValue.int(Int64($0)) })
        limits.set("monthly_budget", l.monthlyBudget.map(JSONValue.double))
        return [
            "object": "tenant", "id": .string(id), "allow_p0": .bool(policy.allowP0), "sub_keys": .int(Int64(policy.subKeys)),
            "limits": limits.json,
        ]
    }

    static func keyJSON(_ key: StoredAPIKey, nowMs: Int64) -> JSONValue {
        var fields: [String: JSONValue] = [
            "object": "api_key", "key_id": .string(key.keyID), "tenant": .string(key.tenant), "role": .string(key.role),
            "created_at": .int(key.createdAtMs), "grants": .array(key.grants.map(JSONValue.string)),
            "active": .bool(key.isUsable(nowMs: nowMs)),
        ]
        fields["expires_at"] = key.expiresAtMs.map(JSONValue.int) ?? .null
        fields["revoked_at"] = key.revokedAtMs.map(JSONValue.int) ?? .null
        return .object(fields)
    }
}
