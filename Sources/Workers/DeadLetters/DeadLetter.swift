import Kafka
import SluiceCore

/// One record of `sluice.jobs.dlq` as the `sluice dlq` tools show it.
public struct DeadLetter: Sendable {
    /// `topic/partition/offset`: names the record for good (what a replay remembers).
    public var position: String
    public var timestampMs: Int64?
    /// The `sluice-dlq-reason` header: the last error, or why the record could not be run.
    public var reason: String?
    /// The `sluice-dlq-source` header: the worker, or the record it came from.
    public var source: String?
    /// The job, with the errors of its failed attempts; nil when the record is not a job
    /// envelope this version can read (then ``decodeError`` says why).
    public var job: JobEnvelope?
    public var decodeError: String?
    public var jobID: String?
    public var tenant: String?
    /// Whether `sluice dlq replay` has put this record back already.
    public var replayed: Bool

    init(message: KafkaMessage, replayed: Set<String>) {
        position = "\(message.topic)/\(message.partition)/\(message.offset)"
        timestampMs = message.timestampMs
        reason = message.header(DeadLetterHeader.reason)
        source = message.header(DeadLetterHeader.source)
        do {
            let job = try Wire.decode(JobEnvelope.self, from: message.value)
            self.job = job
            jobID = job.id
            tenant = job.tenant
        } catch {
            decodeError = Truncation.prefix("\(error)", maxBytes: 512)
            jobID = message.header(RecordHeader.jobID)
            tenant = message.header(RecordHeader.tenant)
        }
        self.replayed = replayed.contains(position)
    }

    /// The `--json` form: one object per record, the job's request left out (it can be large
    /// and may hold what a terminal should not show).
    public var json: JSONValue {
        var w = JSONObjectWriter()
        w.set("position", position)
        w.set("timestamp_ms", timestampMs)
        w.set("job_id", jobID)
        w.set("tenant", tenant)
        w.set("reason", reason)
        w.set("source", source)
        w.set("replayed", JSONValue.bool(replayed))
        w.set("decode_error", decodeError)
        if let job {
            w.set("model", job.model)
            w.set("priority", job.priority.rawValue)
            w.set("attempt", job.attempt)
            w.set("replay", job.replay)
            w.set("failures", JSONValue.array(job.failures.map(\.json)))
        }
        return w.json
    }
}
