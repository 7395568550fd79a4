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

    /// `sluice_results_total{tenant, status}` and `sluice_job_latency_seconds{status}`: a result
    /// published, and how long after acceptance (the envelope's `createdAtMs`) it was.
    static func resultPublished(_ result: ResultEnvelope, job: JobEnvelope) {
        Counter(label: "sluice_results_total", dimensions: [("tenant", job.tenant), ("status", result.status.rawValue)]).increment()
        // A clock step or a forged creation time must not make a negative or absurd duration.
        let elapsedMs = max(0, result.finishedAtMs.subtractingReportingOverflow(job.createdAtMs).partialValue)
        Timer(label: "sluice_job_latency_seconds", dimensions: [("status", result.status.rawValue)])
            .recordMilliseconds(min(elapsedMs, Int64(Int32.max)))
    }
}
