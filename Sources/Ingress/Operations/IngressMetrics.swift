import Metrics
import SluiceCore

/// The ingress's metrics (swift-metrics; the executable picks the backend).
///
/// Labels are bounded: tenants come from the configuration (capped, ``MetricLabels``), reasons are the API's error codes;
/// never a job id or a client's free text.
enum IngressMetrics {
    /// `sluice_jobs_accepted_total{tenant, priority}`: jobs answered 202 as new (an
    /// Idempotency-Key replay is not a new job and is not counted).
    static func accepted(tenant: String, priority: Priority) {
        Counter(label: "sluice_jobs_accepted_total", dimensions: [("tenant", MetricLabels.tenant(tenant)), ("priority", priority.rawValue)]).increment()
    }

    /// `sluice_jobs_rejected_total{reason}`: submissions answered with an error, by the error's
    /// code (`invalid_value`, `queue_unavailable`, …); `other` for anything else. No tenant:
    /// a rejected request may not have authenticated.
    static func rejected(_ error: any Error) {
        let reason = (error as? APIError)?.code ?? "other"
        Counter(label: "sluice_jobs_rejected_total", dimensions: [("reason", reason)]).increment()
    }
}
