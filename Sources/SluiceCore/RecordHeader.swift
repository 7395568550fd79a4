/// Names of the Kafka headers on every Sluice record.
public enum RecordHeader {
    /// Envelope schema and version, e.g. `job.v1`: consumers route on it without parsing the value.
    public static let schema = "sluice-schema"
    public static let tenant = "sluice-tenant"
    public static let jobID = "sluice-job-id"
    /// W3C trace context, carried from the HTTP request to every record of the job.
    public static let traceparent = "traceparent"
    /// On result records: the URL the job asked to be called back at, for the webhook workers
    /// (which read results, not jobs).
    public static let webhookURL = "sluice-webhook-url"
    /// On result records of a batch's jobs: the batch id.
    public static let batchID = "sluice-batch-id"

    /// The headers of a record about `job`, as (name, value) pairs in a stable order.
    public static func pairs(schema: String, job: JobEnvelope) -> [(String, String)] {
        var pairs = [(Self.schema, schema), (tenant, job.tenant), (jobID, job.id)]
        if let trace = job.traceparent { pairs.append((traceparent, trace)) }
        if schema == ResultEnvelope.schema {
            if let url = job.webhook?.url { pairs.append((webhookURL, url)) }
            if let batch = job.batchID { pairs.append((batchID, batch)) }
        }
        return pairs
    }
}
