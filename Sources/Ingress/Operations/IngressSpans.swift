import SluiceCore

/// The ingress's span of a job: from the request's arrival to Kafka's acknowledgement.
enum IngressSpans {
    /// Records `sluice.ingress.accept` (server), whose id is the one the job's records carry,
    /// as a child of the caller's span when the request came with a `traceparent`.
    static func accepted(_ job: JobEnvelope, incoming: String?, startedAt: UInt64) {
        guard SpanRecorder.isEnabled, let context = job.traceparent.flatMap(TraceContext.init(traceparent:)) else { return }
        SpanRecorder.record(FinishedSpan(
            name: "sluice.ingress.accept", context: context,
            parentSpanID: incoming.flatMap(TraceContext.init(traceparent:))?.spanID, kind: .server,
            startUnixNanos: startedAt, endUnixNanos: FinishedSpan.nowUnixNanos(),
            attributes: ["sluice.job_id": job.id, "sluice.tenant": job.tenant, "sluice.model": job.model, "sluice.priority": job.priority.rawValue]))
    }
}
