/// Names of the Kafka headers on every Sluice record.
public enum RecordHeader {
    /// Envelope schema and version, e.g. `job.v1`: consumers route on it without parsing the value.
    public static let schema = "sluice-schema"
    public static let tenant = "sluice-tenant"
    public static let jobID = "sluice-job-id"
    /// W3C trace context, carried from the HTTP request to every record of the job.
    public static let traceparent = "traceparent"
}
