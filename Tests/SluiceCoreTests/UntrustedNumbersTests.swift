import Foundation
import SluiceCore
import Testing

/// Numbers from Kafka records, providers and config files are untrusted: out of range they are
/// refused with the name of the field (or clamped, where a value must always exist), never a trap.
@Suite("Untrusted numbers")
struct UntrustedNumbersTests {
    // MARK: - Records

    private static func job(attempt: String = "1", createdAtMs: String = "1", deadlineMs: String? = nil) -> [UInt8] {
        let deadline = deadlineMs.map { #","deadline_ms":\#($0)"# } ?? ""
        return Array(#"{"id":"j","tenant":"t","model":"m","priority":"p1","request":{},"attempt":\#(attempt),"created_at_ms":\#(createdAtMs)\#(deadline)}"#.utf8)
    }

    @Test("a job record with an attempt outside 1...10000 is malformed, naming the field", arguments: [
        "9223372036854775807", "-1", "0", "10001", "1e300",
    ])
    func jobAttemptOutOfRange(_ attempt: String) {
        do {
            let job = try Wire.decode(JobEnvelope.self, from: Self.job(attempt: attempt))
            Issue.record("accepted attempt \(job.attempt)")
        } catch let error as JSONShapeError {
            #expect(error.path == "job.attempt")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("job attempts at the bounds are kept")
    func jobAttemptBounds() throws {
        #expect(try Wire.decode(JobEnvelope.self, from: Self.job(attempt: "1")).attempt == 1)
        #expect(try Wire.decode(JobEnvelope.self, from: Self.job(attempt: "10000")).attempt == 10_000)
    }

    @Test("timestamps before 1970 or after 9999 are malformed")
    func timestamps() {
        #expect(throws: JSONShapeError(path: "job.created_at_ms", reason: "must be between 0 and 253402300799999, got -1")) {
            try Wire.decode(JobEnvelope.self, from: Self.job(createdAtMs: "-1"))
        }
        #expect(throws: JSONShapeError(path: "job.deadline_ms", reason: "must be between 0 and 253402300799999, got 9223372036854775807")) {
            try Wire.decode(JobEnvelope.self, from: Self.job(deadlineMs: "9223372036854775807"))
        }
    }

    @Test("result and audit records with absurd attempts or tokens are refused, not trapped on")
    func resultAndAudit() {
        let usage = #"{"prompt_tokens":9223372036854775807,"completion_tokens":1}"#
        let result = #"{"job_id":"j","tenant":"t","attempt":1,"status":"succeeded","model":"m","usage":\#(usage),"started_at_ms":1,"finished_at_ms":2}"#
        #expect(throws: JSONShapeError(path: "usage.prompt_tokens", reason: "must be between 0 and 1000000000000, got 9223372036854775807")) {
            try Wire.decode(ResultEnvelope.self, from: Array(result.utf8))
        }
        let negative = result.replacingOccurrences(of: "9223372036854775807", with: "-3")
        #expect(throws: JSONShapeError.self) { try Wire.decode(ResultEnvelope.self, from: Array(negative.utf8)) }
        let attempt = result.replacingOccurrences(of: #""attempt":1"#, with: #""attempt":9223372036854775807"#)
        #expect(throws: JSONShapeError.self) { try Wire.decode(ResultEnvelope.self, from: Array(attempt.utf8)) }

        let audit = #"{"id":"a","type":"job.started","tenant":"t","job_id":"j","attempt":-1,"at_ms":1,"actor":"w"}"#
        #expect(throws: JSONShapeError(path: "audit.attempt", reason: "must be between 1 and 10000, got -1")) {
            try Wire.decode(AuditEvent.self, from: Array(audit.utf8))
        }
    }

    // MARK: - Values built in process

    @Test("Usage clamps counts into its range and sums without overflow")
    func usageClamps() {
        let max = Usage.tokenRange.upperBound
        let huge = Usage(promptTokens: .max, completionTokens: .max)
        #expect(huge.promptTokens == max && huge.completionTokens == max && huge.totalTokens == max)
        let negative = Usage(promptTokens: -1, completionTokens: .min, totalTokens: -5)
        #expect(negative == Usage(promptTokens: 0, completionTokens: 0, totalTokens: 0))
        #expect(Usage(promptTokens: 3, completionTokens: 4).totalTokens == 7)
    }

    @Test("JobError keeps messages and codes short, cutting on a character boundary, once")
    func jobErrorCaps() throws {
        let long = String(repeating: "€", count: 5_000)  // three bytes each
        let error = JobError(type: "provider_error", code: String(repeating: "c", count: 500), message: long)
        #expect(error.message.utf8.count <= JobError.maxMessageBytes)
        #expect(error.message.hasSuffix("… [truncated, 15000 bytes in all]"))
        #expect(error.message.hasPrefix("€€€") && !error.message.contains("\u{FFFD}"))
        #expect(error.code?.utf8.count == JobError.maxCodeBytes)
        // A cut error read back from Kafka is not cut again.
        #expect(try JobError(json: error.json) == error)
        #expect(JobError(type: "t", message: "short").message == "short")
    }

    // MARK: - Configuration

    private static func configuration(_ json: String) throws -> SluiceConfiguration {
        try JSONDecoder().decode(SluiceConfiguration.self, from: Data(json.utf8))
    }

    @Test("the default configuration has no problems")
    func defaultsAreValid() throws {
        #expect(SluiceConfiguration().problems() == [])
        #expect(try Self.configuration("{}").workers.maxResponseBytes == 16 << 20)
    }

    @Test("every numeric setting out of range is one sentence naming its key")
    func configurationRanges() throws {
        let c = try Self.configuration(#"""
            {"kafka":{"session_timeout_ms":6000,"heartbeat_interval_ms":6000},
             "ingress":{"port":0,"produce_timeout_ms":-1},
             "workers":{"max_in_flight":0,"concurrency":1,"weights":[8,0,1],"request_timeout_ms":0,
                        "connect_timeout_ms":9223372036854775807,"max_attempts":1000,"retry_base_delay_ms":-5,
                        "max_response_bytes":10},
             "ledger":{"batch_size":9223372036854775807}}
            """#)
        #expect(c.problems() == [
            "kafka.heartbeat_interval_ms must be less than kafka.session_timeout_ms",
            "ingress.port must be between 1 and 65535, got 0",
            "ingress.produce_timeout_ms must be between 1 and 300000, got -1",
            "workers.max_in_flight must be between 1 and 1000000, got 0",
            "workers.weights[1] must be between 1 and 1000, got 0",
            "workers.request_timeout_ms must be between 1 and 3600000, got 0",
            "workers.connect_timeout_ms must be between 1 and 300000, got 9223372036854775807",
            "workers.max_attempts must be between 1 and 100, got 1000",
            "workers.retry_base_delay_ms must be between 1 and 3600000, got -5",
            "workers.max_response_bytes must be between 1024 and 1073741824, got 10",
            "ledger.batch_size must be between 1 and 100000, got 9223372036854775807",
        ])
    }

    @Test("weights must be exactly three")
    func weightsCount() throws {
        let c = try Self.configuration(#"{"workers":{"weights":[1,1]}}"#)
        #expect(c.problems() == ["workers.weights must be three numbers (p0, p1, p2), got 2"])
    }
}
