/// One record of the compacted `sluice.control` topic (key = subject): a fact that every
/// worker process must know, whichever partitions of the jobs topics it owns.
///
/// Versioned (`v`) and typed (`type`) so that new kinds (key revocations) can join without
/// breaking readers: a reader skips a kind or a version it does not know instead of failing.
/// The key names the subject (`job:<id>`, `dlq:<topic>/<partition>/<offset>`), so compaction
/// keeps the latest fact per subject and a restarted reader rebuilds its state from the topic.
public struct ControlEvent: Sendable, Equatable {
    public static let schema = "control.v1"
    /// The envelope version this code writes and reads.
    public static let version = 1

    public var kind: Kind
    /// The job the event is about.
    public var jobID: String
    public var tenant: String
    /// Unix milliseconds of the request.
    public var requestedAtMs: Int64
    /// Who asked (`ingress:<host>:<pid>` for an API call, `cli:<user>@<host>` for the CLI).
    public var actor: String
    /// For ``Kind/dlqReplayed``: the DLQ record that was replayed (`topic/partition/offset`).
    public var dlqRecord: String?

    /// What the event says. A struct with static members, not an enum: kinds will be added.
    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The job must not be called again; it ends `cancelled`.
        public static let jobCancel = Kind(rawValue: "job.cancel")
        /// A DLQ record was put back on its jobs topic; `sluice dlq replay` skips it next time.
        public static let dlqReplayed = Kind(rawValue: "dlq.replayed")
    }

    public init(kind: Kind, jobID: String, tenant: String, requestedAtMs: Int64, actor: String, dlqRecord: String? = nil) {
        self.kind = kind
        self.jobID = jobID
        self.tenant = tenant
        self.requestedAtMs = requestedAtMs
        self.actor = actor
        self.dlqRecord = dlqRecord
    }

    /// The record key: the subject that compaction keeps one fact for.
    public var key: String {
        switch kind {
        case .dlqReplayed: Self.dlqKey(record: dlqRecord ?? jobID)
        default: Self.jobKey(jobID)
        }
    }

    public static func jobKey(_ jobID: String) -> String { "job:\(jobID)" }
    public static func dlqKey(record: String) -> String { "dlq:\(record)" }
}

extension ControlEvent: JSONRepresentable {
    /// - Throws: `JSONShapeError` for a missing field, a timestamp out of range, or a version
    ///   other than ``version`` (readers skip such records and log them).
    public init(json: JSONValue) throws(JSONShapeError) {
        let r = try JSONObjectReader(json, path: "control")
        let version = try r.int("v", in: 0...Int64(Int32.max))
        guard version == Int64(Self.version) else { throw r.invalid("v", "unsupported version \(version)") }
        self.init(
            kind: Kind(rawValue: try r.string("type")), jobID: try r.string("job_id"), tenant: try r.string("tenant"),
            requestedAtMs: try r.int("requested_at_ms", in: Wire.timestampRangeMs), actor: try r.string("actor"),
            dlqRecord: try r.optionalString("dlq_record"))
    }

    public var json: JSONValue {
        var w = JSONObjectWriter()
        w.set("v", Self.version)
        w.set("type", kind.rawValue)
        w.set("job_id", jobID)
        w.set("tenant", tenant)
        w.set("requested_at_ms", requestedAtMs)
        w.set("actor", actor)
        w.set("dlq_record", dlqRecord)
        return w.json
    }
}
