/// An endpoint that receives a tenant's events.
public struct WebhookEndpoint: Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var url: String
    /// Signing secrets, all used during a rotation.
    public var secrets: [WebhookSecret]
    /// Event types it receives; empty means all.
    public var events: Set<String>
    public var disabled: Bool

    public init(id: String, tenant: String, url: String, secrets: [WebhookSecret], events: Set<String> = [], disabled: Bool = false) {
        self.id = id
        self.tenant = tenant
        self.url = url
        self.secrets = secrets
        self.events = events
        self.disabled = disabled
    }

    public func receives(_ type: String) -> Bool { events.isEmpty || events.contains(type) }
}

/// Where the webhook workers learn a tenant's endpoints and signing secrets: the configuration,
/// plus the endpoints registered over HTTP (kept in the ledger; the executable wires that in).
public protocol WebhookEndpointDirectory: Sendable {
    /// The tenant's endpoints, disabled ones included.
    func endpoints(tenant: String) async throws -> [WebhookEndpoint]
}


/// One delivery and its attempts, as the ledger holds them (`GET /v1/webhooks/deliveries`).
public struct WebhookDeliveryView: Sendable, Equatable {
    public struct Attempt: Sendable, Equatable {
        public var attempt: Int
        public var atMs: Int64
        /// `delivered`, `retrying`, `dead`, `refused`, `endpoint_disabled`.
        public var outcome: String
        public var statusCode: Int?
        public var error: String?
        public var durationMs: Int?

        public init(attempt: Int, atMs: Int64, outcome: String, statusCode: Int?, error: String?, durationMs: Int?) {
            self.attempt = attempt
            self.atMs = atMs
            self.outcome = outcome
            self.statusCode = statusCode
            self.error = error
            self.durationMs = durationMs
        }
    }

    public var id: String
    public var tenant: String
    public var subjectID: String
    public var type: String
    public var url: String
    public var endpointID: String
    /// `pending` (retrying), `delivered`, `failed` (in the DLQ).
    public var status: String
    public var createdAtMs: Int64
    public var updatedAtMs: Int64
    /// The body as sent; not part of the list answer.
    public var payload: String?
    public var attempts: [Attempt]

    public init(
        id: String, tenant: String, subjectID: String, type: String, url: String, endpointID: String, status: String,
        createdAtMs: Int64, updatedAtMs: Int64, payload: String?, attempts: [Attempt]
    ) {
        self.id = id
        self.tenant = tenant
        self.subjectID = subjectID
        self.type = type
        self.url = url
        self.endpointID = endpointID
        self.status = status
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.payload = payload
        self.attempts = attempts
    }
}

extension WebhookDeliveryView: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        throw JSONShapeError(path: "webhook_delivery", reason: "read only")
    }

    public var json: JSONValue {
        var w = JSONObjectWriter()
        w.set("id", id)
        w.set("object", "webhook.delivery")
        w.set("subject_id", subjectID)
        w.set("type", type)
        w.set("url", url)
        w.set("endpoint_id", endpointID)
        w.set("status", status)
        w.set("created_at_ms", createdAtMs)
        w.set("updated_at_ms", updatedAtMs)
        w.set("attempts", JSONValue.array(attempts.map { a in
            var o = JSONObjectWriter()
            o.set("attempt", a.attempt)
            o.set("at_ms", a.atMs)
            o.set("outcome", a.outcome)
            o.set("status_code", a.statusCode)
            o.set("error", a.error)
            o.set("duration_ms", a.durationMs)
            return o.json
        }))
        return w.json
    }
}

/// What the HTTP API reads and writes about webhooks: registered endpoints and the deliveries
/// log. The ledger implements it; ingress knows only this protocol.
public protocol WebhookRegistry: Sendable {
    /// Stores a new endpoint.
    func register(_ endpoint: WebhookEndpoint, createdAtMs: Int64) async throws
    /// The tenant's registered endpoints.
    func registeredEndpoints(tenant: String) async throws -> [WebhookEndpoint]
    /// Deletes one; false when the tenant has no such endpoint.
    func deleteEndpoint(id: String, tenant: String) async throws -> Bool
    /// The tenant's deliveries, newest first, optionally of one job or batch only.
    func deliveries(tenant: String, subjectID: String?, limit: Int, beforeMs: Int64?) async throws -> [WebhookDeliveryView]
    /// One delivery, payload included.
    func delivery(id: String, tenant: String) async throws -> WebhookDeliveryView?
}
