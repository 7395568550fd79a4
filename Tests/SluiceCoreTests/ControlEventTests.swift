import SluiceCore
import Testing

@Suite("Control events and replay fields on the wire")
struct ControlEventTests {
    @Test("a cancellation round-trips, keyed by its job")
    func cancellationRoundTrip() throws {
        let event = ControlEvent(kind: .jobCancel, jobID: "job-1", tenant: "acme", requestedAtMs: 1_700_000_000_000, actor: "ingress:h:1")
        let decoded = try Wire.decode(ControlEvent.self, from: Wire.encode(event))
        #expect(decoded == event)
        #expect(event.key == "job:job-1")
        let json = try JSONValue.parse(Wire.encode(event))
        #expect(json["v"]?.intValue == 1)
        #expect(json["type"]?.stringValue == "job.cancel")
        #expect(json["requested_at_ms"]?.intValue == 1_700_000_000_000)
    }

    @Test("a DLQ replay marker is keyed by the DLQ record, not the job")
    func replayMarkerKey() throws {
        let event = ControlEvent(
            kind: .dlqReplayed, jobID: "job-1", tenant: "acme", requestedAtMs: 5, actor: "cli", dlqRecord: "sluice.jobs.dlq/2/17")
        #expect(event.key == "dlq:sluice.jobs.dlq/2/17")
        #expect(try Wire.decode(ControlEvent.self, from: Wire.encode(event)).dlqRecord == "sluice.jobs.dlq/2/17")
    }

    @Test("key revocations, expiries and tenant changes round-trip, keyed by their subject, without a job id")
    func tenancyEventsRoundTrip() throws {
        let revoked = ControlEvent.keyRevoked(keyID: "k0123456789abcdef", tenant: "acme", atMs: 1_700_000_000_000, actor: "cli:ops@h:1")
        let expires = ControlEvent.keyExpires(keyID: "k0123456789abcdef", tenant: "acme", atMs: 1_800_000_000_000, requestedAtMs: 5, actor: "a")
        let changed = ControlEvent.tenantChanged(tenant: "acme", requestedAtMs: 7, actor: "a")
        for event in [revoked, expires, changed] {
            #expect(try Wire.decode(ControlEvent.self, from: Wire.encode(event)) == event)
            #expect(try JSONValue.parse(Wire.encode(event))["job_id"]?.stringValue == "", "\(event.kind)")
        }
        #expect(revoked.key == "key:k0123456789abcdef" && expires.key == revoked.key)
        #expect(changed.key == "tenant:acme")
        #expect(revoked.effectiveAtMs == 1_700_000_000_000)
        #expect(try JSONValue.parse(Wire.encode(expires))["effective_at_ms"]?.intValue == 1_800_000_000_000)
        // Written by a newer producer without job_id at all: still read.
        let bare = #"{"v":1,"type":"key.revoked","key_id":"k1","effective_at_ms":3,"tenant":"t","requested_at_ms":3,"actor":"x"}"#
        #expect(try Wire.decode(ControlEvent.self, from: Array(bare.utf8)).keyID == "k1")
    }

    @Test(
        "unreadable control records are refused naming the field",
        arguments: [
            (#"{"v":2,"type":"job.cancel","job_id":"a","tenant":"t","requested_at_ms":1,"actor":"x"}"#, "control.v"),
            (#"{"type":"job.cancel","job_id":"a","tenant":"t","requested_at_ms":1,"actor":"x"}"#, "control.v"),
            (#"{"v":1,"type":"job.cancel","tenant":"t","requested_at_ms":1,"actor":"x"}"#, "control.job_id"),
            (#"{"v":1,"type":"job.cancel","job_id":"a","tenant":"t","requested_at_ms":-5,"actor":"x"}"#, "control.requested_at_ms"),
            (#"{"v":9223372036854775807,"type":"job.cancel","job_id":"a","tenant":"t","requested_at_ms":1,"actor":"x"}"#, "control.v"),
            (#"{"v":1,"type":"key.revoked","tenant":"t","effective_at_ms":1,"requested_at_ms":1,"actor":"x"}"#, "control.key_id"),
            (#"{"v":1,"type":"key.expires","key_id":"k","tenant":"t","requested_at_ms":1,"actor":"x"}"#, "control.effective_at_ms"),
            (#"{"v":1,"type":"key.expires","key_id":"k","effective_at_ms":-1,"tenant":"t","requested_at_ms":1,"actor":"x"}"#, "control.effective_at_ms"),
        ])
    func malformed(text: String, path: String) {
        do {
            _ = try Wire.decode(ControlEvent.self, from: Array(text.utf8))
            Issue.record("decoded \(text)")
        } catch let error as JSONShapeError {
            #expect(error.path == path)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("a job keeps its replay number and attempt history through the wire")
    func jobHistoryRoundTrip() throws {
        var job = JobEnvelope(
            id: "job-1", tenant: "acme", model: "demo", priority: .p1, request: ["messages": []], attempt: 3, createdAtMs: 10)
        job.replay = 2
        job.recordFailure(AttemptFailure(attempt: 1, atMs: 20, error: JobError(type: "provider_error", code: "server_error", message: "503", providerStatus: 503)))
        job.recordFailure(AttemptFailure(attempt: 2, atMs: 30, error: JobError(type: "timeout", message: "timed out")))
        let decoded = try Wire.decode(JobEnvelope.self, from: Wire.encode(job))
        #expect(decoded == job)
        #expect(decoded.failures.map(\.attempt) == [1, 2])
        #expect(decoded.failures.first?.error.providerStatus == 503)
    }

    @Test("the attempt history is bounded: the oldest failures go first")
    func historyBound() {
        var job = JobEnvelope(id: "j", tenant: "t", model: "m", priority: .p1, request: [:], createdAtMs: 1)
        for attempt in 1...(JobEnvelope.maxFailures + 5) {
            job.recordFailure(AttemptFailure(attempt: attempt, atMs: 1, error: JobError(type: "x", message: "m")))
        }
        #expect(job.failures.count == JobEnvelope.maxFailures)
        #expect(job.failures.first?.attempt == 6)
    }

    @Test("a record with more failures than allowed, or a replay out of range, is refused")
    func historyLimitsOnRead() throws {
        let failure = #"{"attempt":1,"at_ms":1,"error":{"type":"x","message":"m"}}"#
        let many = Array(repeating: failure, count: JobEnvelope.maxFailures + 1).joined(separator: ",")
        let base = #"{"id":"j","tenant":"t","model":"m","priority":"p1","request":{},"created_at_ms":1"#
        #expect(throws: JSONShapeError.self) { try Wire.decode(JobEnvelope.self, from: Array((base + #","failures":[\#(many)]}"#).utf8)) }
        #expect(throws: JSONShapeError.self) { try Wire.decode(JobEnvelope.self, from: Array((base + #","replay":-1}"#).utf8)) }
        #expect(throws: JSONShapeError.self) { try Wire.decode(JobEnvelope.self, from: Array((base + #","replay":99999999}"#).utf8)) }
    }

    @Test("audit ids of the original run are unchanged; a replayed run gets its own")
    func replayAuditIDs() {
        let original = AuditEvent.id(jobID: "j", type: .started, attempt: 1)
        #expect(AuditEvent(type: .started, tenant: "t", jobID: "j", attempt: 1, atMs: 1, actor: "w").id == original)
        let replayed = AuditEvent(type: .started, tenant: "t", jobID: "j", attempt: 1, atMs: 1, actor: "w", replay: 1)
        #expect(replayed.id != original)
        #expect(replayed.id != AuditEvent(type: .started, tenant: "t", jobID: "j", attempt: 1, atMs: 1, actor: "w", replay: 2).id)
        #expect(AuditEventType.replayed.jobStatus == .queued)
        #expect(AuditEventType.cancelRequested.jobStatus == nil)
    }
}
