import Foundation

/// One event on its way to one endpoint: what the webhook workers pass through
/// `sluice.webhooks.retry.<delay>` and finally `sluice.webhooks.dlq` (key = subject id).
///
/// The body travels as the exact bytes first sent, so every retry signs and sends the same
/// payload under the same `webhook-id`, which is the receiver's idempotency key. Secrets never
/// travel: the worker looks them up by tenant and endpoint when it signs.
public struct WebhookDelivery: Sendable, Equatable {
    public static let schema = "webhook.v1"

    /// The `webhook-id`: the same for every attempt and every redelivery of the source record.
    public var id: String
    public var tenant: String
    /// The job or batch the event is about.
    public var subjectID: String
    /// `job.succeeded`, `batch.completed`, …
    public var type: String
    public var url: String
    /// `job` for the URL a job named, `batch` for a batch's, else the tenant endpoint's id.
    public var endpointID: String
    /// The JSON body, exactly as sent.
    public var payload: String
    /// The attempt this record is for, 1-based.
    public var attempt: Int
    /// Not to be attempted before this time.
    public var notBeforeMs: Int64?
    public var createdAtMs: Int64
    /// The W3C trace context of the job the event is about (its result record's header): each
    /// attempt is a span of that trace and sends a child of it as `traceparent`.
    public var traceparent: String?

    public init(
        id: String, tenant: String, subjectID: String, type: String, url: String, endpointID: String, payload: String,
        attempt: Int = 1, notBeforeMs: Int64? = nil, createdAtMs: Int64, traceparent: String? = nil
    ) {
        self.traceparent = traceparent
        self.id = id
        self.tenant = tenant
        self.subjectID = subjectID
        self.type = type
        self.url = url
        self.endpointID = endpointID
        self.payload = payload
        self.attempt = attempt
        self.notBeforeMs = notBeforeMs
        self.createdAtMs = createdAtMs
    }

    /// The largest body sent inline; a bigger result is replaced by a link to the job.
    public static let maxInlinePayloadBytes = 20 * 1_024
    /// Attempts a record may claim (a schedule has at most 50 steps; manual retries add some).
    public static let attemptRange: ClosedRange<Int> = 1...10_000

    /// The `webhook-id` of an event for one endpoint: derived, so that a result record read twice
    /// produces the same id and the receiver can drop the copy.
    public static func id(eventKey: String, endpointID: String) -> String {
        "msg_" + DerivedID.make("webhook", eventKey, endpointID).replacingOccurrences(of: "-", with: "")
    }
}

extension WebhookDelivery: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "webhook")
        self.init(
            id: try r.string("id"), tenant: try r.string("tenant"), subjectID: try r.string("subject_id"), type: try r.string("type"),
            url: try r.string("url"), endpointID: try r.string("endpoint_id"), payload: try r.string("payload"),
            attempt: try r.int("attempt", in: Self.attemptRange),
            notBeforeMs: try r.optionalInt("not_before_ms", in: Wire.timestampRangeMs),
            createdAtMs: try r.int("created_at_ms", in: Wire.timestampRangeMs),
            // A malformed context is dropped (the attempt starts a trace) rather than refusing the delivery.
            traceparent: r.optional("traceparent")?.stringValue.flatMap { TraceContext(traceparent: $0)?.traceparent })
    }

    public var json: JSONValue {
        var w = JSONObjectWriter()
        w.set("id", id)
        w.set("tenant", tenant)
        w.set("subject_id", subjectID)
        w.set("type", type)
        w.set("url", url)
        w.set("endpoint_id", endpointID)
        w.set("payload", payload)
        w.set("attempt", attempt)
        w.set("not_before_ms", notBeforeMs)
        w.set("created_at_ms", createdAtMs)
        w.set("traceparent", traceparent)
        return w.json
    }
}

/// A batch's end, as the batch machinery announces it on `sluice.results` with header
/// `sluice-schema: batch.v1`.
public struct BatchNotice: Sendable, Equatable {
    public static let schema = "batch.v1"

    public var batchID: String
    public var tenant: String
    /// `completed`, `failed`, `expired` or `cancelled` (others are not announced).
    public var status: String
    public var webhookURL: String?

    public init(batchID: String, tenant: String, status: String, webhookURL: String? = nil) {
        self.batchID = batchID
        self.tenant = tenant
        self.status = status
        self.webhookURL = webhookURL
    }
}

extension BatchNotice: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "batch")
        self.init(
            batchID: try r.string("batch_id"), tenant: try r.string("tenant"), status: try r.string("status"),
            webhookURL: try r.optionalString("webhook_url"))
    }

    public var json: JSONValue {
        var w = JSONObjectWriter()
        w.set("batch_id", batchID)
        w.set("tenant", tenant)
        w.set("status", status)
        w.set("webhook_url", webhookURL)
        return w.json
    }
}

/// The bodies of Sluice's events: `{type, timestamp, data}`, Standard Webhooks' recommended shape.
public enum WebhookPayload {
    /// The event of a finished job: ids, status and the result, or a link to the job when the
    /// whole would exceed ``WebhookDelivery/maxInlinePayloadBytes``.
    public static func job(_ result: ResultEnvelope, batchID: String? = nil) -> (type: String, body: String)? {
        guard let type = jobEventType(result.status) else { return nil }
        var data = JSONObjectWriter()
        data.set("id", result.jobID)
        data.set("object", "job")
        data.set("status", result.status.rawValue)
        data.set("model", result.model)
        data.set("attempts", result.attempt)
        data.set("batch_id", batchID)
        data.set("usage", result.usage)
        data.set("error", result.error)
        var full = data
        full.set("result", result.response)
        let inline = envelope(type: type, atMs: result.finishedAtMs, data: full.json)
        if inline.utf8.count <= WebhookDelivery.maxInlinePayloadBytes { return (type, inline) }
        // Too big for a callback: the receiver fetches the result (errors are capped and small).
        data.set("url", "/v1/jobs/\(result.jobID)")
        return (type, envelope(type: type, atMs: result.finishedAtMs, data: data.json))
    }

    /// The event type of a job that ended with `status`, or nil for one that is not announced.
    public static func jobEventType(_ status: JobStatus) -> String? {
        switch status {
        case .succeeded: WebhookEventType.jobSucceeded
        case .failed: WebhookEventType.jobFailed
        default: nil
        }
    }

    /// The event of an ended batch, or nil for a status that is not announced.
    public static func batch(_ notice: BatchNotice, atMs: Int64) -> (type: String, body: String)? {
        guard WebhookEventType.batchStatuses.contains(notice.status) else { return nil }
        let type = "batch.\(notice.status)"
        let data: JSONValue = [
            "id": .string(notice.batchID), "object": "batch", "status": .string(notice.status),
            "url": .string("/v1/batches/\(notice.batchID)"),
        ]
        return (type, envelope(type: type, atMs: atMs, data: data))
    }

    static func envelope(type: String, atMs: Int64, data: JSONValue) -> String {
        let body: JSONValue = ["type": .string(type), "timestamp": .string(iso8601(ms: atMs)), "data": data]
        return String(decoding: body.serialized(), as: UTF8.self)
    }

    /// `2025-01-01T00:00:00.123Z`.
    public static func iso8601(ms: Int64) -> String {
        ISO8601Milliseconds.format(ms: ms)
    }
}
