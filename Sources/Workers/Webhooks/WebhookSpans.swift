import SluiceCore

/// The webhook workers' spans: one per delivery attempt that reached the network.
enum WebhookSpans {
    /// Records `sluice.webhook.delivery` (client) with the id sent as `traceparent`, under the
    /// job's span when the delivery carries the job's trace context.
    static func attempt(
        _ delivery: WebhookDelivery, span: TraceContext, parent: TraceContext?, startedAt: UInt64, outcome: WebhookDispatcher.Outcome
    ) {
        guard SpanRecorder.isEnabled else { return }
        var attributes = [
            "sluice.delivery_id": delivery.id, "sluice.tenant": delivery.tenant, "sluice.subject_id": delivery.subjectID,
            "sluice.event_type": delivery.type, "sluice.endpoint_id": delivery.endpointID, "sluice.attempt": String(delivery.attempt),
        ]
        let failed: Bool
        switch outcome {
        case .delivered(let status):
            attributes["sluice.outcome"] = "delivered"
            attributes["http.response.status_code"] = String(status)
            failed = false
        case .failed(let status, _, _):
            attributes["sluice.outcome"] = "failed"
            if let status { attributes["http.response.status_code"] = String(status) }
            failed = true
        case .gone:
            attributes["sluice.outcome"] = "endpoint_disabled"
            attributes["http.response.status_code"] = "410"
            failed = true
        case .refused:
            attributes["sluice.outcome"] = "refused"
            failed = true
        }
        SpanRecorder.record(FinishedSpan(
            name: "sluice.webhook.delivery", context: span, parentSpanID: parent?.spanID, kind: .client, startUnixNanos: startedAt,
            endUnixNanos: FinishedSpan.nowUnixNanos(), attributes: attributes, failed: failed))
    }
}
