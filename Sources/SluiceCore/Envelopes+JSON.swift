// The JSON forms of the envelopes: the one place their wire field names are written down.
//
// Records come from Kafka, which anyone with produce rights can write to: every number is read
// through a range (`Wire.attemptRange`, `Wire.timestampRangeMs`, `Usage.tokenRange`), so a
// record with `attempt = Int64.max` or negative tokens is rejected as malformed, naming the
// field, instead of overflowing later arithmetic.

// MARK: - JobEnvelope

extension JobEnvelope: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "job")
        let priorityText = try r.string("priority")
        guard let priority = Priority(rawValue: priorityText) else { throw r.invalid("priority", "unknown priority '\(priorityText)'") }
        guard let request = r.optional("request") else { throw r.missing("request") }
        var webhook: Webhook?
        if let w = r.optional("webhook") { webhook = Webhook(url: try JSONObjectReader(w, path: "job.webhook").string("url")) }
        self.init(
            id: try r.string("id"), tenant: try r.string("tenant"), model: try r.string("model"), priority: priority,
            request: request, webhook: webhook, metadata: r.optional("metadata"), deadlineMs: try r.optionalInt("deadline_ms", in: Wire.timestampRangeMs),
            attempt: try r.optionalInt("attempt", in: Wire.attemptRange) ?? 1,
            createdAtMs: try r.int("created_at_ms", in: Wire.timestampRangeMs),
            idempotencyKey: try r.optionalString("idempotency_key"), batchID: try r.optionalString("batch_id"),
            traceparent: try r.optionalString("traceparent")
        )
        notBeforeMs = try r.optionalInt("not_before_ms")
        replay = try r.optionalInt("replay", in: Wire.replayRange) ?? 0
        if let list = r.optional("failures") {
            guard case .array(let items) = list else { throw r.invalid("failures", "expected an array") }
            guard items.count <= JobEnvelope.maxFailures else {
                throw r.invalid("failures", "at most \(JobEnvelope.maxFailures) entries, got \(items.count)")
            }
            failures = try items.map { item throws(JSONShapeError) in try AttemptFailure(json: item) }
        }
    }

    public var json: JSONValue {
        var w = JSONObjectWriter()
        w.set("id", id)
        w.set("tenant", tenant)
        w.set("model", model)
        w.set("priority", priority.rawValue)
        w.set("request", request)
        w.set("webhook", webhook.map { JSONValue.object(["url": .string($0.url)]) })
        w.set("metadata", metadata)
        w.set("deadline_ms", deadlineMs)
        w.set("attempt", attempt)
        w.set("created_at_ms", createdAtMs)
        w.set("idempotency_key", idempotencyKey)
        w.set("batch_id", batchID)
        w.set("traceparent", traceparent)
        w.set("not_before_ms", notBeforeMs)
        if replay > 0 { w.set("replay", replay) }
        if !failures.isEmpty { w.set("failures", JSONValue.array(failures.map(\.json))) }
        return w.json
    }
}

extension AttemptFailure: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "job.failures[]")
        guard let error = try r.object("error", as: JobError.self) else { throw r.missing("error") }
        self.init(
            attempt: try r.int("attempt", in: Wire.attemptRange), atMs: try r.int("at_ms", in: Wire.timestampRangeMs),
            error: error)
    }

    public var json: JSONValue {
        ["attempt": .int(Int64(attempt)), "at_ms": .int(atMs), "error": error.json]
    }
}

// MARK: - ResultEnvelope

extension ResultEnvelope: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "result")
        let statusText = try r.string("status")
        guard let status = JobStatus(rawValue: statusText) else { throw r.invalid("status", "unknown status '\(statusText)'") }
        self.init(
            jobID: try r.string("job_id"), tenant: try r.string("tenant"), attempt: try r.int("attempt", in: Wire.attemptRange), status: status,
            model: try r.string("model"), route: try r.optionalString("route"), response: r.optional("response"),
            error: try r.object("error", as: JobError.self), usage: try r.object("usage", as: Usage.self),
            cost: try r.optionalDouble("cost", in: ResultEnvelope.costRange), currency: try r.optionalString("currency"),
            startedAtMs: try r.int("started_at_ms", in: Wire.timestampRangeMs),
            finishedAtMs: try r.int("finished_at_ms", in: Wire.timestampRangeMs)
        )
        replay = try r.optionalInt("replay", in: Wire.replayRange) ?? 0
    }

    public var json: JSONValue {
        var w = JSONObjectWriter()
        w.set("job_id", jobID)
        w.set("tenant", tenant)
        w.set("attempt", attempt)
        w.set("status", status.rawValue)
        w.set("model", model)
        w.set("route", route)
        w.set("response", response)
        w.set("error", error)
        w.set("usage", usage)
        w.set("cost", cost.map(JSONValue.double))
        w.set("currency", currency)
        w.set("started_at_ms", startedAtMs)
        w.set("finished_at_ms", finishedAtMs)
        if replay > 0 { w.set("replay", replay) }
        return w.json
    }
}

extension JobError: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "error")
        self.init(
            type: try r.string("type"), code: try r.optionalString("code"), message: try r.string("message"),
            providerStatus: try r.optionalInt("provider_status", in: 0...999)
        )
    }

    public var json: JSONValue {
        var w = JSONObjectWriter()
        w.set("type", type)
        w.set("code", code)
        w.set("message", message)
        w.set("provider_status", providerStatus)
        return w.json
    }
}

extension Usage: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "usage")
        self.init(
            promptTokens: try r.int("prompt_tokens", in: Usage.tokenRange),
            completionTokens: try r.int("completion_tokens", in: Usage.tokenRange),
            totalTokens: try r.optionalInt("total_tokens", in: Usage.tokenRange)
        )
    }

    public var json: JSONValue {
        ["prompt_tokens": .int(Int64(promptTokens)), "completion_tokens": .int(Int64(completionTokens)), "total_tokens": .int(Int64(totalTokens))]
    }
}

// MARK: - AuditEvent

extension AuditEvent: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "audit")
        self.init(
            id: try r.string("id"), type: AuditEventType(rawValue: try r.string("type")), tenant: try r.string("tenant"),
            jobID: try r.string("job_id"), attempt: try r.int("attempt", in: Wire.attemptRange),
            atMs: try r.int("at_ms", in: Wire.timestampRangeMs),
            actor: try r.string("actor"), detail: r.optional("detail"),
            replay: try r.optionalInt("replay", in: Wire.replayRange) ?? 0
        )
    }

    public var json: JSONValue {
        var w = JSONObjectWriter()
        w.set("id", id)
        w.set("type", type.rawValue)
        w.set("tenant", tenant)
        w.set("job_id", jobID)
        w.set("attempt", attempt)
        w.set("at_ms", atMs)
        w.set("actor", actor)
        w.set("detail", detail)
        if replay > 0 { w.set("replay", replay) }
        return w.json
    }
}

// MARK: - JobView

extension JobView: JSONRepresentable {
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "job")
        let statusText = try r.string("status")
        guard let status = JobStatus(rawValue: statusText) else { throw r.invalid("status", "unknown status '\(statusText)'") }
        let priorityText = try r.string("priority")
        guard let priority = Priority(rawValue: priorityText) else { throw r.invalid("priority", "unknown priority '\(priorityText)'") }
        self.init(
            id: try r.string("id"), tenant: try r.string("tenant"), status: status, model: try r.string("model"),
            priority: priority, attempts: try r.int("attempts", in: 0...Wire.attemptRange.upperBound),
            createdAtMs: try r.int("created_at_ms", in: Wire.timestampRangeMs),
            startedAtMs: try r.optionalInt("started_at_ms", in: Wire.timestampRangeMs),
            completedAtMs: try r.optionalInt("completed_at_ms", in: Wire.timestampRangeMs),
            batchID: try r.optionalString("batch_id"), metadata: r.optional("metadata"), result: r.optional("result"),
            error: try r.object("error", as: JobError.self), usage: try r.object("usage", as: Usage.self),
            cost: try r.optionalDouble("cost", in: ResultEnvelope.costRange), currency: try r.optionalString("currency"),
            injectionFlags: r.optional("injection_flags")
        )
    }

    public var json: JSONValue {
        var w = JSONObjectWriter()
        w.set("id", id)
        w.set("object", object)
        w.set("tenant", tenant)
        w.set("status", status.rawValue)
        w.set("model", model)
        w.set("priority", priority.rawValue)
        w.set("attempts", attempts)
        w.set("created_at_ms", createdAtMs)
        w.set("started_at_ms", startedAtMs)
        w.set("completed_at_ms", completedAtMs)
        w.set("batch_id", batchID)
        w.set("metadata", metadata)
        w.set("injection_flags", injectionFlags)
        w.set("result", result)
        w.set("error", error)
        w.set("usage", usage)
        w.set("cost", cost.map(JSONValue.double))
        w.set("currency", currency)
        return w.json
    }
}

// MARK: - Streamed forms
//
// The same fields as each `json` above, written straight into bytes in ascending key order
// (the order `JSONValue.write` sorts into, so the bytes do not change). Keep both in step:
// `WireStreamingTests` compares them for every type here.

extension JobEnvelope {
    public func writeJSON(into out: inout [UInt8]) {
        var w = JSONObjectStream(into: &out)
        w.set("attempt", attempt, into: &out)
        w.set("batch_id", batchID, into: &out)
        w.set("created_at_ms", createdAtMs, into: &out)
        w.set("deadline_ms", deadlineMs, into: &out)
        if !failures.isEmpty { w.set("failures", JSONValue.array(failures.map(\.json)), into: &out) }
        w.set("id", id, into: &out)
        w.set("idempotency_key", idempotencyKey, into: &out)
        w.set("metadata", metadata, into: &out)
        w.set("model", model, into: &out)
        w.set("not_before_ms", notBeforeMs, into: &out)
        w.set("priority", priority.rawValue, into: &out)
        if replay > 0 { w.set("replay", replay, into: &out) }
        w.set("request", request, into: &out)
        w.set("tenant", tenant, into: &out)
        w.set("traceparent", traceparent, into: &out)
        w.set("webhook", webhook.map { JSONValue.object(["url": .string($0.url)]) }, into: &out)
        w.close(into: &out)
    }
}

extension ResultEnvelope {
    public func writeJSON(into out: inout [UInt8]) {
        var w = JSONObjectStream(into: &out)
        w.set("attempt", attempt, into: &out)
        w.set("cost", cost, into: &out)
        w.set("currency", currency, into: &out)
        w.set("error", error, into: &out)
        w.set("finished_at_ms", finishedAtMs, into: &out)
        w.set("job_id", jobID, into: &out)
        w.set("model", model, into: &out)
        if replay > 0 { w.set("replay", replay, into: &out) }
        w.set("response", response, into: &out)
        w.set("route", route, into: &out)
        w.set("started_at_ms", startedAtMs, into: &out)
        w.set("status", status.rawValue, into: &out)
        w.set("tenant", tenant, into: &out)
        w.set("usage", usage, into: &out)
        w.close(into: &out)
    }
}

extension JobError {
    public func writeJSON(into out: inout [UInt8]) {
        var w = JSONObjectStream(into: &out)
        w.set("code", code, into: &out)
        w.set("message", message, into: &out)
        w.set("provider_status", providerStatus, into: &out)
        w.set("type", type, into: &out)
        w.close(into: &out)
    }
}

extension Usage {
    public func writeJSON(into out: inout [UInt8]) {
        var w = JSONObjectStream(into: &out)
        w.set("completion_tokens", completionTokens, into: &out)
        w.set("prompt_tokens", promptTokens, into: &out)
        w.set("total_tokens", totalTokens, into: &out)
        w.close(into: &out)
    }
}

extension AuditEvent {
    public func writeJSON(into out: inout [UInt8]) {
        var w = JSONObjectStream(into: &out)
        w.set("actor", actor, into: &out)
        w.set("at_ms", atMs, into: &out)
        w.set("attempt", attempt, into: &out)
        w.set("detail", detail, into: &out)
        w.set("id", id, into: &out)
        w.set("job_id", jobID, into: &out)
        if replay > 0 { w.set("replay", replay, into: &out) }
        w.set("tenant", tenant, into: &out)
        w.set("type", type.rawValue, into: &out)
        w.close(into: &out)
    }
}

extension JobView {
    public func writeJSON(into out: inout [UInt8]) {
        var w = JSONObjectStream(into: &out)
        w.set("attempts", attempts, into: &out)
        w.set("batch_id", batchID, into: &out)
        w.set("completed_at_ms", completedAtMs, into: &out)
        w.set("cost", cost, into: &out)
        w.set("created_at_ms", createdAtMs, into: &out)
        w.set("currency", currency, into: &out)
        w.set("error", error, into: &out)
        w.set("id", id, into: &out)
        w.set("injection_flags", injectionFlags, into: &out)
        w.set("metadata", metadata, into: &out)
        w.set("model", model, into: &out)
        w.set("object", object, into: &out)
        w.set("priority", priority.rawValue, into: &out)
        w.set("result", result, into: &out)
        w.set("started_at_ms", startedAtMs, into: &out)
        w.set("status", status.rawValue, into: &out)
        w.set("tenant", tenant, into: &out)
        w.set("usage", usage, into: &out)
        w.close(into: &out)
    }
}
