import SluiceCore

/// Spans of a job's trace that mark a worker's decisions (the provider calls record their own,
/// one per attempt, in the pool): a retry scheduled, a job ended by a cancellation.
enum WorkerSpans {
    /// `sluice.job.retry` (internal): attempt `attempt` failed retriably and the next one waits
    /// `delayMs`, locally or in a retry topic. Its parent is the job's span, like the calls'.
    static func retry(_ job: JobEnvelope, attempt: Int, delayMs: Int, via: String, error: JobError, deployment: String) {
        guard SpanRecorder.isEnabled, let parent = job.traceparent.flatMap(TraceContext.init(traceparent:)) else { return }
        let now = FinishedSpan.nowUnixNanos()
        var attributes = [
            "sluice.job_id": job.id, "sluice.tenant": job.tenant, "sluice.attempt": String(attempt), "sluice.next_attempt": String(attempt + 1),
            "sluice.retry_delay_ms": String(delayMs), "sluice.retry_via": via, "sluice.deployment": deployment,
            "sluice.error_type": error.type,
        ]
        if let code = error.code { attributes["sluice.error_code"] = code }
        if let status = error.providerStatus { attributes["http.response.status_code"] = String(status) }
        SpanRecorder.record(FinishedSpan(
            name: "sluice.job.retry", context: parent.child(), parentSpanID: parent.spanID, kind: .internal, startUnixNanos: now,
            endUnixNanos: now, attributes: attributes, failed: true))
    }

    /// `sluice.job.cancel` (internal): the job ended `cancelled` at a worker or the retry relay,
    /// spanning from when that process took the job to now.
    static func cancelled(_ job: JobEnvelope, attempt: Int, startedAtMs: Int64, actor: String) {
        guard SpanRecorder.isEnabled, let parent = job.traceparent.flatMap(TraceContext.init(traceparent:)) else { return }
        let end = FinishedSpan.nowUnixNanos()
        // Milliseconds from the process's clock, clamped: never before the epoch or after now.
        let startNanos = UInt64(clamping: max(0, startedAtMs)).multipliedReportingOverflow(by: 1_000_000)
        let start = startNanos.overflow ? end : min(end, startNanos.partialValue)
        SpanRecorder.record(FinishedSpan(
            name: "sluice.job.cancel", context: parent.child(), parentSpanID: parent.spanID, kind: .internal, startUnixNanos: start,
            endUnixNanos: end,
            attributes: ["sluice.job_id": job.id, "sluice.tenant": job.tenant, "sluice.attempt": String(attempt), "sluice.actor": actor]))
    }
}
