import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Ingress
import Kafka
import RequestFuzzing
import SluiceCore
import Testing

/// No request body can crash the ingress: every hostile body is a valid job or a clear 4xx.
///
/// A trap (an overflowing conversion, a force-unwrap) kills the test process, so simply getting
/// through the loop is the first assertion; the checks inside are the second.
@Suite("Hostile request bodies")
struct RequestFuzzTests {
    static let models: Set<String> = ["demo", "gpt-4o-mini"]
    /// `JobSubmissionTests.app()`'s body limit.
    static let maxBodyBytes = 1 << 20

    /// Random per run for coverage over time; printed, and replayable with `SLUICE_FUZZ_SEED`.
    static func seed(_ test: String) -> UInt64 {
        let seed = ProcessInfo.processInfo.environment["SLUICE_FUZZ_SEED"].flatMap { UInt64($0) } ?? .random(in: 0...UInt64.max)
        print("\(test): fuzz seed \(seed) (replay with SLUICE_FUZZ_SEED=\(seed))")
        return seed
    }

    static func preview(_ body: [UInt8]) -> String {
        String(decoding: body.prefix(300), as: UTF8.self) + (body.count > 300 ? "… (\(body.count) bytes)" : "")
    }

    @Test("30,000 mutated bodies through the validator: a sound job or a 4xx with a JSON error body, never a trap")
    func validator() async throws {
        let seed = Self.seed("validator")
        // A minute of CPU on a debug build: on a thread of its own, so that it does not hold one
        // of the concurrency pool's two threads (and stall every other test) while it runs.
        let (accepted, codes, failures) = await DedicatedThread.run(name: "fuzz-validator") { () -> (Int, [String: Int], [String]) in
            let configuration = IngressConfiguration()
            let validator = JobRequestValidator(models: Self.models, configuration: configuration)
            let nowMs = WallClock.system.nowMs()
            let latestMs = nowMs + Int64(configuration.maxDeadlineAheadSeconds) * 1000
            var fuzzer = RequestFuzzer(seed: seed, nowSeconds: nowMs / 1000)
            var failures: [String] = []
            var codes: [String: Int] = [:]
            var accepted = 0
            for i in 0..<30_000 {
                let body = fuzzer.nextBody()
                var problems: [String] = []
                do throws(APIError) {
                    let job = try validator.validate(body, nowMs: nowMs)
                    accepted += 1
                    problems = Self.problems(of: job, nowMs: nowMs, latestMs: latestMs)
                } catch {
                    codes[error.code, default: 0] += 1
                    problems = Self.problems(of: error)
                }
                if !problems.isEmpty { failures.append("#\(i) \(problems.joined(separator: "; ")): \(Self.preview(body))") }
            }
            return (accepted, codes, failures)
        }

        print("validator: \(accepted) accepted, rejections by code: \(codes.sorted { $0.key < $1.key })")
        #expect(failures.isEmpty, "seed \(seed): \(failures.count) bad outcomes, first: \(failures.prefix(5).joined(separator: "\n"))")
        // The fuzzer must reach both sides and every kind of rejection, or it proves little.
        #expect(accepted >= 1_000, "seed \(seed)")
        for code in ["invalid_json", "invalid_value", "invalid_type", "model_not_found", "missing_required_parameter"] {
            #expect(codes[code, default: 0] >= 50, "seed \(seed): too few '\(code)' rejections")
        }
    }

    @Test("3,000 rejected bodies through the HTTP router answer exactly the validator's error as JSON")
    func router() async throws {
        let seed = Self.seed("router")
        let validator = JobRequestValidator(models: Self.models, configuration: IngressConfiguration())
        var fuzzer = RequestFuzzer(seed: seed, nowSeconds: WallClock.system.nowMs() / 1000)
        var cases: [(body: [UInt8], error: APIError)] = []
        while cases.count < 3_000 {
            let body = fuzzer.nextBody()
            // Accepted bodies would wait for the unreachable test broker; the live fuzz test
            // (EndToEndTests) sends those to a real one.
            do {
                _ = try validator.validate(body, nowMs: WallClock.system.nowMs())
            } catch {
                // The router refuses an oversized body before reading it.
                cases.append((body, body.count > Self.maxBodyBytes ? .tooLarge(limit: Self.maxBodyBytes) : error))
            }
        }
        let sent = cases
        try await JobSubmissionTests.app().test(.router) { client in
            var failures: [String] = []
            for (i, (body, expected)) in sent.enumerated() {
                let headers: HTTPFields = [.authorization: "Bearer sk-sluice-acme", .contentType: "application/json"]
                try await client.execute(uri: "/v1/jobs", method: .post, headers: headers, body: ByteBuffer(bytes: body)) { response in
                    let json = try? JSONValue.parse(response.body.readableBytesView)
                    if Int(response.status.code) != Int(expected.status.code) || json != expected.body
                        || response.headers[.contentType] != "application/json"
                    {
                        failures.append("#\(i) got \(response.status.code) \(json.map { String(decoding: $0.serialized(), as: UTF8.self) } ?? "non-JSON"), expected \(expected.status.code) \(expected.code): \(Self.preview(body))")
                    }
                }
            }
            #expect(failures.isEmpty, "seed \(seed): \(failures.count) bad answers, first: \(failures.prefix(5).joined(separator: "\n"))")
        }
    }

    // MARK: - What a sound outcome is

    /// An accepted job holds nothing out of range.
    static func problems(of job: JobRequest, nowMs: Int64, latestMs: Int64) -> [String] {
        var problems: [String] = []
        if !models.contains(job.model) { problems.append("unknown model '\(job.model)'") }
        if job.request["messages"]?.arrayValue?.isEmpty != false { problems.append("no messages") }
        for field in JobRequestValidator.sluiceFields where job.request[field] != nil { problems.append("Sluice field '\(field)' left in the request") }
        if let deadline = job.deadlineMs, !(deadline > nowMs && deadline <= latestMs) { problems.append("deadline \(deadline) out of range") }
        let ranges: [(String, ClosedRange<Double>)] = [
            ("max_tokens", 1...1_000_000), ("max_completion_tokens", 1...1_000_000), ("n", 1...128), ("temperature", 0...2),
            ("top_p", 0...1), ("presence_penalty", -2...2), ("frequency_penalty", -2...2),
        ]
        for (field, range) in ranges {
            switch job.request[field] {
            case nil, .null?: break
            case .int(let i)?: if !range.contains(Double(i)) { problems.append("\(field) \(i) accepted") }
            case .double(let d)?: if !range.contains(d) { problems.append("\(field) \(d) accepted") }
            case let other?: problems.append("\(field) of type \(other.typeName) accepted")
            }
        }
        // What goes to Kafka and the provider reads back as the same value.
        let bytes = job.request.serialized()
        if (try? JSONValue.parse(bytes, rejectingDuplicateKeys: true)) != job.request { problems.append("request does not survive a round trip") }
        return problems
    }

    /// A rejection is a 4xx `invalid_request_error` whose JSON body names what went wrong.
    static func problems(of error: APIError) -> [String] {
        var problems: [String] = []
        if !(400..<500).contains(Int(error.status.code)) { problems.append("status \(error.status.code)") }
        if error.type != "invalid_request_error" { problems.append("type \(error.type)") }
        if error.message.isEmpty || error.code.isEmpty { problems.append("empty code or message") }
        if error.param?.isEmpty == true { problems.append("empty param") }
        let bytes = error.body.serialized()
        // Messages quote the input; a huge input must not make a huge answer.
        if bytes.count > 8_192 { problems.append("error body of \(bytes.count) bytes") }
        guard let json = try? JSONValue.parse(bytes, rejectingDuplicateKeys: true) else {
            return problems + ["error body is not JSON"]
        }
        if json["error"]?["code"]?.stringValue != error.code || json["error"]?["message"]?.stringValue != error.message
            || json["error"]?["param"]?.stringValue != error.param
        {
            problems.append("error body \(String(decoding: json.serialized(), as: UTF8.self)) does not match the error")
        }
        return problems
    }
}
