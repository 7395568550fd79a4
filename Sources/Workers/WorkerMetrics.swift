import Metrics
import SluiceCore

/// The workers' metrics (swift-metrics; the executable picks the backend).
///
/// Labels are bounded: providers and upstream models come from the configuration, statuses are
/// a closed set, HTTP statuses are three digits; never a job id or a provider's error text.
enum WorkerMetrics {
    /// `sluice_provider_attempts_total{provider, model, outcome, http_status}` and
    /// `sluice_provider_latency_seconds{provider, model}`: one provider call (a retry is another).
    static func providerCall(_ route: ProviderDeployment, outcome: ProviderOutcome, elapsed: Duration) {
        let (name, status): (String, Int?) =
            switch outcome {
            case .success: ("success", nil)
            case .retriable(let error, _): ("retriable", error.providerStatus)
            case .permanent(let error): ("permanent", error.providerStatus)
            }
        let httpStatus = status.flatMap { (100...599).contains($0) ? String($0) : nil } ?? (name == "success" ? "2xx" : "none")
        Counter(
            label: "sluice_provider_attempts_total",
            dimensions: [("provider", route.provider), ("model", route.upstreamModel), ("outcome", name), ("http_status", httpStatus)]
        ).increment()
        Timer(label: "sluice_provider_latency_seconds", dimensions: [("provider", route.provider), ("model", route.upstreamModel)])
            .record(duration: elapsed)
    }

    /// `sluice_webhook_attempts_total{outcome}` (delivered, retrying, dead, refused,
    /// endpoint_disabled) and `sluice_webhook_latency_seconds`: one delivery attempt.
    static func webhookAttempt(outcome: String, durationMs: Int) {
        Counter(label: "sluice_webhook_attempts_total", dimensions: [("outcome", outcome)]).increment()
        Timer(label: "sluice_webhook_latency_seconds").record(duration: .milliseconds(max(0, durationMs)))
    }

    /// `sluice_results_total{tenant, status}` and `sluice_job_latency_seconds{status}`: a result
    /// published, and how long after acceptance (the envelope's `createdAtMs`) it was.
    ///
    /// Also `sluice_tokens_total{tenant, model, kind="prompt"|"completion"}` and
    /// `sluice_cost_total{tenant, model, currency}` for results that report usage and a price.
    /// Tenants are capped (``MetricLabels/tenant(_:)``); models are the configured route names.
    static func resultPublished(_ result: ResultEnvelope, job: JobEnvelope) {
        let tenant = MetricLabels.tenant(job.tenant)
        Counter(label: "sluice_results_total", dimensions: [("tenant", tenant), ("status", result.status.rawValue)]).increment()
        if let usage = result.usage {
            let model = [("tenant", tenant), ("model", job.model)]
            Counter(label: "sluice_tokens_total", dimensions: model + [("kind", "prompt")]).increment(by: max(0, usage.promptTokens))
            Counter(label: "sluice_tokens_total", dimensions: model + [("kind", "completion")]).increment(by: max(0, usage.completionTokens))
            if let cost = result.cost, cost.isFinite, cost >= 0 {
                FloatingPointCounter(label: "sluice_cost_total", dimensions: model + [("currency", result.currency ?? "USD")])
                    .increment(by: cost)
            }
        }
        // A clock step or a forged creation time must not make a negative or absurd duration.
        let elapsedMs = max(0, result.finishedAtMs.subtractingReportingOverflow(job.createdAtMs).partialValue)
        Timer(label: "sluice_job_latency_seconds", dimensions: [("status", result.status.rawValue)])
            .recordMilliseconds(min(elapsedMs, Int64(Int32.max)))
    }

    /// `sluice_job_queue_wait_seconds`: from acceptance (`createdAtMs`) to the job's first
    /// provider call, by priority.
    static func queueWait(_ job: JobEnvelope, startedAtMs: Int64) {
        let waitedMs = max(0, startedAtMs.subtractingReportingOverflow(job.createdAtMs).partialValue)
        Timer(label: "sluice_job_queue_wait_seconds", dimensions: [("priority", job.priority.rawValue)])
            .recordMilliseconds(min(waitedMs, Int64(Int32.max)))
    }

    /// `sluice_rate_limit_waits_total{deployment, via="local"|"retry_topic"}`: a job that had to
    /// wait for capacity (rate limit, concurrency or breaker) here, or was deferred through a
    /// retry topic. `deployment` is `any` when no single deployment was waited for.
    static func capacityWait(deployment: String?, deferred: Bool) {
        Counter(
            label: "sluice_rate_limit_waits_total",
            dimensions: [("deployment", deployment ?? "any"), ("via", deferred ? "retry_topic" : "local")]
        ).increment()
    }
}

extension WorkerMetrics {
    /// `sluice_dead_letters_total`: job records sent to `sluice.jobs.dlq` (for the DLQ-growth alert).
    static func deadLettered() {
        Counter(label: "sluice_dead_letters_total").increment()
    }
}

extension ProviderOutcome {
    /// `success`, `retriable` or `permanent`, for logs and labels.
    var name: String {
        switch self {
        case .success: "success"
        case .retriable: "retriable"
        case .permanent: "permanent"
        }
    }
}
