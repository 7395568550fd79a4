import Foundation
import HTTPTypes
import Hummingbird
import Kafka
import Logging
import SluiceCore

/// What ingress needs for webhooks: the URL policy for submitted URLs, the tenants that can
/// sign, the ledger's endpoints and deliveries, and a producer for manual retries.
public struct WebhookIngressSettings: Sendable {
    public var policy: WebhookURLPolicy
    /// Tenants with signing secrets in config: only their jobs may name a webhook URL.
    public var signingTenants: Set<String>
    public var registry: (any WebhookRegistry)?
    public var producer: KafkaProducer?
    public var topics: TopicCatalog

    public init(
        policy: WebhookURLPolicy, signingTenants: Set<String>, registry: (any WebhookRegistry)?, producer: KafkaProducer?,
        topics: TopicCatalog
    ) {
        self.policy = policy
        self.signingTenants = signingTenants
        self.registry = registry
        self.producer = producer
        self.topics = topics
    }

    /// Refuses a job's webhook URL the policy denies, or that its tenant cannot sign for:
    /// a 400 naming `webhook.url`.
    func checkJobURL(_ url: String, tenant: String) async throws(APIError) {
        guard signingTenants.contains(tenant) else {
            throw .invalidRequest(
                "'webhook.url' cannot be used: tenant '\(tenant)' has no webhook signing secret (webhooks.tenants.\(tenant).secrets).",
                param: "webhook.url")
        }
        do {
            try await policy.check(url, tenant: tenant)
        } catch {
            throw .invalidRequest("'webhook.url' is refused: it \(error.reason).", param: "webhook.url", code: "webhook_url_refused")
        }
    }
}

/// `/v1/webhooks/*`: a tenant's default endpoints and its deliveries log.
struct WebhookRoutes: Sendable {
    let settings: WebhookIngressSettings
    let keys: KeyRing
    let clock: WallClock
    let retryAfterSeconds: Int
    let logger: Logger

    /// The collection, to be added at `/v1/webhooks`.
    func collection() -> RouteCollection<SluiceRequestContext> {
        let routes = RouteCollection(context: SluiceRequestContext.self)
        routes.add(middleware: AuthMiddleware(keys: keys))
        routes.post("endpoints") { request, context in try await createEndpoint(request, context: context) }
        routes.get("endpoints") { _, context in try await listEndpoints(context) }
        routes.delete("endpoints/:id") { _, context in try await deleteEndpoint(context) }
        routes.get("deliveries") { request, context in try await listDeliveries(request, context: context) }
        routes.post("deliveries/:id/retry") { _, context in try await retry(context) }
        return routes
    }

    // MARK: - Endpoints

    private func createEndpoint(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try context.submitter(mayNot: "change webhooks")
        let registry = try self.registry()
        var request = request
        let buffer = try await request.collectBody(upTo: 64 * 1_024)
        let body: JSONValue
        do {
            body = try JSONValue.parse(Array(buffer.readableBytesView), rejectingDuplicateKeys: true)
        } catch {
            throw APIError.invalidRequest("The body is not valid JSON: \(error)", code: "invalid_json")
        }
        guard case .object(let fields) = body else { throw APIError.invalidRequest("The body must be a JSON object.", code: "invalid_type") }
        guard case .string(let url)? = fields["url"] else { throw APIError.invalidRequest("'url' is required, a string.", param: "url", code: "missing_field") }
        do {
            try await settings.policy.check(url, tenant: principal.tenant)
        } catch {
            throw APIError.invalidRequest("'url' is refused: it \(error.reason).", param: "url", code: "webhook_url_refused")
        }
        var events: Set<String> = []
        if let list = fields["events"], !list.isNull {
            guard case .array(let items) = list, items.count <= 32 else {
                throw APIError.invalidRequest("'events' must be an array of event types.", param: "events", code: "invalid_type")
            }
            for item in items {
                guard let type = item.stringValue, WebhookEventType.all.contains(type) else {
                    throw APIError.invalidRequest(
                        "'events' may hold only \(WebhookEventType.all.sorted().joined(separator: ", ")).", param: "events")
                }
                events.insert(type)
            }
        }
        let secret: WebhookSecret
        if let given = fields["secret"], !given.isNull {
            guard let text = given.stringValue, let parsed = WebhookSecret(text) else {
                throw APIError.invalidRequest("'secret' must be whsec_ followed by base64 of 24 to 64 bytes.", param: "secret")
            }
            secret = parsed
        } else {
            secret = WebhookSecret.generate()
        }
        let nowMs = clock.nowMs()
        let endpoint = WebhookEndpoint(
            id: "we_" + UUIDv7.generate().replacingOccurrences(of: "-", with: ""), tenant: principal.tenant, url: url,
            secrets: [secret], events: events)
        do {
            try await registry.register(endpoint, createdAtMs: nowMs)
        } catch {
            logger.warning("cannot store a webhook endpoint", metadata: ["error": "\(error)"])
            throw APIError.ledgerUnavailable(retryAfter: retryAfterSeconds)
        }
        // The secret is shown once, now; later reads never return it.
        var json = Self.endpointJSON(endpoint, createdAtMs: nowMs)
        json["secret"] = .string(secret.text)
        return IngressService.json(.created, JSONValue.object(json))
    }

    private func listEndpoints(_ context: SluiceRequestContext) async throws -> Response {
        let principal = try context.caller()
        let registry = try self.registry()
        let endpoints: [WebhookEndpoint]
        do {
            endpoints = try await registry.registeredEndpoints(tenant: principal.tenant)
        } catch {
            throw APIError.ledgerUnavailable(retryAfter: retryAfterSeconds)
        }
        let data = endpoints.map { JSONValue.object(Self.endpointJSON($0, createdAtMs: nil)) }
        return IngressService.json(.ok, ["object": "list", "data": .array(data)] as JSONValue)
    }

    private func deleteEndpoint(_ context: SluiceRequestContext) async throws -> Response {
        let principal = try context.submitter(mayNot: "change webhooks")
        let registry = try self.registry()
        let id = context.parameters.get("id") ?? ""
        let deleted: Bool
        do {
            deleted = try await registry.deleteEndpoint(id: id, tenant: principal.tenant)
        } catch {
            throw APIError.ledgerUnavailable(retryAfter: retryAfterSeconds)
        }
        guard deleted else { throw APIError.notFound("webhook_endpoint", id: id) }
        return IngressService.json(.ok, ["id": .string(id), "object": "webhook.endpoint", "deleted": true] as JSONValue)
    }

    private static func endpointJSON(_ e: WebhookEndpoint, createdAtMs: Int64?) -> [String: JSONValue] {
        var json: [String: JSONValue] = [
            "id": .string(e.id), "object": "webhook.endpoint", "url": .string(e.url),
            "events": .array(e.events.sorted().map(JSONValue.string)), "disabled": .bool(e.disabled),
        ]
        if let createdAtMs { json["created_at_ms"] = .int(createdAtMs) }
        return json
    }

    // MARK: - Deliveries

    private func listDeliveries(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try context.caller()
        let registry = try self.registry()
        let q = request.uri.queryParameters
        var limit = 100
        if let text = q["limit"].map(String.init) {
            guard let n = Int(text), (1...1_000).contains(n) else {
                throw APIError.invalidRequest("'limit' must be an integer from 1 to 1000.", param: "limit")
            }
            limit = n
        }
        var beforeMs: Int64?
        if let text = q["before"].map(String.init) {
            guard let n = Int64(text), Wire.timestampRangeMs.contains(n) else {
                throw APIError.invalidRequest("'before' must be a time in Unix milliseconds.", param: "before")
            }
            beforeMs = n
        }
        let subject = (q["job_id"] ?? q["batch_id"]).map { String($0) }
        let deliveries: [WebhookDeliveryView]
        do {
            deliveries = try await registry.deliveries(tenant: principal.tenant, subjectID: subject, limit: limit, beforeMs: beforeMs)
        } catch {
            throw APIError.ledgerUnavailable(retryAfter: retryAfterSeconds)
        }
        var body: [String: JSONValue] = ["object": "list", "data": .array(deliveries.map(\.json)), "has_more": .bool(deliveries.count == limit)]
        if deliveries.count == limit, let last = deliveries.last { body["next_before"] = .int(last.createdAtMs) }
        return IngressService.json(.ok, JSONValue.object(body))
    }

    /// Sends a delivery again now, whatever became of it, as a new attempt under the same
    /// `webhook-id` (so a receiver that already has it drops the copy).
    private func retry(_ context: SluiceRequestContext) async throws -> Response {
        let principal = try context.submitter(mayNot: "change webhooks")
        let registry = try self.registry()
        let id = context.parameters.get("id") ?? ""
        let known: WebhookDeliveryView?
        do {
            known = try await registry.delivery(id: id, tenant: principal.tenant)
        } catch {
            throw APIError.ledgerUnavailable(retryAfter: retryAfterSeconds)
        }
        guard let view = known, let payload = view.payload else { throw APIError.notFound("webhook_delivery", id: id) }
        guard let producer = settings.producer else { throw APIError.queueUnavailable(retryAfter: retryAfterSeconds) }
        let nextAttempt = min((view.attempts.map(\.attempt).max() ?? 0) + 1, WebhookDelivery.attemptRange.upperBound)
        let delivery = WebhookDelivery(
            id: view.id, tenant: view.tenant, subjectID: view.subjectID, type: view.type, url: view.url, endpointID: view.endpointID,
            payload: payload, attempt: nextAttempt, createdAtMs: view.createdAtMs)
        let record = KafkaProducerMessage(
            topic: settings.topics.webhookRetry(delayMs: 0), key: Array(view.subjectID.utf8), value: Wire.encode(delivery),
            headers: [
                KafkaHeader(key: RecordHeader.schema, value: WebhookDelivery.schema), KafkaHeader(key: RecordHeader.tenant, value: view.tenant),
                KafkaHeader(key: RecordHeader.jobID, value: view.subjectID),
            ])
        do {
            try await producer.send([record])
        } catch {
            logger.warning("manual webhook retry not queued", metadata: ["delivery_id": "\(id)", "error": "\(error)"])
            throw APIError.queueUnavailable(retryAfter: retryAfterSeconds)
        }
        var json = view
        json.status = "pending"
        return IngressService.json(.accepted, json)
    }

    // MARK: - Helpers

    private func registry() throws -> any WebhookRegistry {
        guard let registry = settings.registry else {
            throw APIError(
                status: .notImplemented, type: "not_implemented", code: "webhooks_not_served",
                message: "This process does not serve the webhook endpoints and deliveries API.")
        }
        return registry
    }
}
