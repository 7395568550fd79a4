import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Ingress
import Kafka
import Logging
import SluiceCore
import Testing

/// A ledger that knows what the test tells it, or fails every read.
struct FakeLedger: JobLookup {
    var jobs: [String: JobView] = [:]
    var bindings: [String: IdempotencyBinding] = [:]
    var failing = false

    struct Unavailable: Error {}

    func job(id: String, tenant: String) async throws -> JobView? {
        if failing { throw Unavailable() }
        return jobs[id].flatMap { $0.tenant == tenant ? $0 : nil }
    }

    func idempotencyBinding(tenant: String, key: String) async throws -> IdempotencyBinding? {
        if failing { throw Unavailable() }
        return bindings[tenant + "/" + key]
    }
}

@Suite("Idempotency-Key across processes")
struct IdempotencyTests {
    static let body = #"{"model":"demo","messages":[{"role":"user","content":"Summarise this."}]}"#
    static let fingerprint = IdempotencyBinding.fingerprint(Array(body.utf8))
    static let headers: HTTPFields = [.authorization: "Bearer sk-sluice-acme", HTTPField.Name("Idempotency-Key")!: "order-42"]

    static func app(ledger: some JobLookup, bootstrap: String = "127.0.0.1:1") throws -> some ApplicationProtocol {
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: bootstrap)
        producerConfiguration.messageTimeoutMs = 3_000
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: Logger(label: "test"))
        let service = try IngressService(
            configuration: IngressConfiguration(maxBodyBytes: 1 << 20), tenants: JobSubmissionTests.tenants,
            models: ["demo"],
            enqueuer: JobEnqueuer(producer: producer, topics: TopicCatalog(prefix: "t\(UUID().uuidString.prefix(8).lowercased())")),
            jobs: ledger, logger: Logger(label: "test"))
        return Application(router: service.buildRouter())
    }

    static func ledger(bindingFingerprint: String, createdAtMs: Int64 = WallClock.system.nowMs()) -> (FakeLedger, String) {
        let jobID = UUIDv7.generate()
        var ledger = FakeLedger()
        ledger.jobs[jobID] = JobView(
            id: jobID, tenant: "acme", status: .succeeded, model: "demo", priority: .p1, attempts: 1, createdAtMs: createdAtMs)
        ledger.bindings["acme/order-42"] = IdempotencyBinding(
            tenant: "acme", key: "order-42", jobID: jobID, fingerprint: bindingFingerprint, createdAtMs: createdAtMs)
        return (ledger, jobID)
    }

    static func errorCode(_ response: TestResponse) throws -> (code: String?, message: String) {
        let json = try JSONDecoder().decode(JSONValue.self, from: Data(response.body.readableBytesView))
        return (json["error"]?["code"]?.stringValue, json["error"]?["message"]?.stringValue ?? "")
    }

    @Test("a key the ledger bound (another process, or before a restart) replays that job without producing", .timeLimit(.minutes(1)))
    func replayFromLedger() async throws {
        let (ledger, jobID) = Self.ledger(bindingFingerprint: Self.fingerprint)
        // The broker address is dead: a replay must not need Kafka.
        try await Self.app(ledger: ledger).test(.router) { client in
            try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers, body: ByteBuffer(string: Self.body)) { response in
                #expect(response.status == .accepted)
                #expect(response.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                let json = try JSONDecoder().decode(JSONValue.self, from: Data(response.body.readableBytesView))
                #expect(json["id"]?.stringValue == jobID)
                #expect(json["status"]?.stringValue == "succeeded")
            }
        }
    }

    @Test("a key the ledger bound to another body is 409 idempotency_key_conflict", .timeLimit(.minutes(1)))
    func conflictFromLedger() async throws {
        let (ledger, _) = Self.ledger(bindingFingerprint: "0123456789abcdef")
        try await Self.app(ledger: ledger).test(.router) { client in
            for _ in 0..<2 {  // the first 409 must not leave the key "in progress"
                try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers, body: ByteBuffer(string: Self.body)) { response in
                    #expect(response.status == .conflict)
                    let (code, _) = try Self.errorCode(response)
                    #expect(code == "idempotency_key_conflict")
                }
            }
        }
    }

    @Test("past 24 h the binding no longer decides, but the derived id still names the same job", .timeLimit(.minutes(1)))
    func expiredBinding() async throws {
        let old = WallClock.system.nowMs() - IdempotencyBinding.lifetimeMs - 1
        var ledger = FakeLedger()
        let derived = IdempotencyBinding.jobID(tenant: "acme", key: "order-42", fingerprint: Self.fingerprint)
        ledger.jobs[derived] = JobView(id: derived, tenant: "acme", status: .succeeded, model: "demo", priority: .p1, attempts: 1, createdAtMs: old)
        // An expired binding to another body is no conflict any more.
        ledger.bindings["acme/order-42"] = IdempotencyBinding(
            tenant: "acme", key: "order-42", jobID: UUIDv7.generate(), fingerprint: "0123456789abcdef", createdAtMs: old)
        try await Self.app(ledger: ledger).test(.router) { client in
            try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers, body: ByteBuffer(string: Self.body)) { response in
                #expect(response.status == .accepted)
                let json = try JSONDecoder().decode(JSONValue.self, from: Data(response.body.readableBytesView))
                #expect(json["id"]?.stringValue == derived)
            }
        }
    }

    @Test("a ledger that cannot be read: 503 with Retry-After, and the key is free for the retry", .timeLimit(.minutes(1)))
    func ledgerUnavailable() async throws {
        try await Self.app(ledger: FakeLedger(failing: true)).test(.router) { client in
            for _ in 0..<2 {
                try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers, body: ByteBuffer(string: Self.body)) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.retryAfter] == "5")
                    let (code, _) = try Self.errorCode(response)
                    #expect(code == "idempotency_unverifiable")
                }
            }
        }
    }

    @Test("unknown enqueue outcome: the 503 says the job may exist and what a retry does", .timeLimit(.minutes(1)))
    func unknownOutcomeMessage() async throws {
        try await Self.app(ledger: EmptyLedger()).test(.router) { client in
            // No broker: the records time out in the producer, so whether they were stored is unknown.
            try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers, body: ByteBuffer(string: Self.body)) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "5")
                let (code, message) = try Self.errorCode(response)
                #expect(code == "queue_unavailable")
                #expect(message.contains("may or may not have been queued"), "\(message)")
                #expect(message.contains("same Idempotency-Key is safe"), "\(message)")
            }
            // The same key again is not "in progress": the failed request released it.
            try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers, body: ByteBuffer(string: Self.body)) { response in
                #expect(response.status == .serviceUnavailable)
            }
            try await client.execute(
                uri: "/v1/jobs", method: .post, headers: [.authorization: "Bearer sk-sluice-acme"], body: ByteBuffer(string: Self.body)
            ) { response in
                #expect(response.status == .serviceUnavailable)
                let (_, message) = try Self.errorCode(response)
                #expect(message.contains("may create a second job"), "\(message)")
            }
        }
    }

    @Test(
        "two ingress processes given the same key and body queue the same job id", .timeLimit(.minutes(1)),
        .enabled(if: ProcessInfo.processInfo.environment["SLUICE_TEST_BOOTSTRAP"] != nil, "run with `make test`"))
    func sameIDOnTwoIngresses() async throws {
        let bootstrap = try #require(ProcessInfo.processInfo.environment["SLUICE_TEST_BOOTSTRAP"])
        var ids: [String] = []
        for _ in 0..<2 {
            // Separate services: no shared memory, and a ledger that has not caught up yet.
            let id = try await Self.app(ledger: EmptyLedger(), bootstrap: bootstrap).test(.router) { client in
                try await client.execute(uri: "/v1/jobs", method: .post, headers: Self.headers, body: ByteBuffer(string: Self.body)) { response in
                    #expect(response.status == .accepted)
                    let json = try JSONDecoder().decode(JSONValue.self, from: Data(response.body.readableBytesView))
                    return try #require(json["id"]?.stringValue)
                }
            }
            ids.append(id)
        }
        #expect(ids.count == 2 && ids[0] == ids[1])
        #expect(ids.first == IdempotencyBinding.jobID(tenant: "acme", key: "order-42", fingerprint: Self.fingerprint))
        // Another tenant with the same key and body gets another job.
        #expect(IdempotencyBinding.jobID(tenant: "globex", key: "order-42", fingerprint: Self.fingerprint) != ids.first)
    }

    // MARK: - Units

    @Test("enqueue outcome: unknown after a timeout, a rebuilt producer or half a job; known when nothing left the client")
    func outcomeClassification() {
        let queueFull = KafkaError(code: .queueFull, message: "full")
        let timedOut = KafkaError(code: .messageTimedOut, message: "timed out")
        let rebuilt = KafkaError(code: .fatal, message: "rebuilt", isRetriable: true, isFatal: true)
        #expect(!EnqueueError.classify(failures: [queueFull, queueFull], delivered: 0).mayHaveBeenQueued)
        #expect(EnqueueError.classify(failures: [queueFull], delivered: 1).mayHaveBeenQueued)
        #expect(EnqueueError.classify(failures: [timedOut, timedOut], delivered: 0).mayHaveBeenQueued)
        #expect(EnqueueError.classify(failures: [rebuilt], delivered: 1).mayHaveBeenQueued)
        #expect(EnqueueError.classify(failures: [queueFull, rebuilt], delivered: 0).mayHaveBeenQueued)
    }

    @Test("the in-memory keys stay within capacity, oldest out first, and a re-claimed key survives its stale slot")
    func memoryBound() {
        let keys = IdempotencyKeys(ttlMs: 1_000, capacity: 3)
        for i in 0..<5 {
            #expect(keys.claim(tenant: "acme", key: "k\(i)", fingerprint: "f", nowMs: 100) == .claimed)
            keys.complete(tenant: "acme", key: "k\(i)", jobID: "job-\(i)")
        }
        #expect(keys.count <= 3)
        #expect(keys.claim(tenant: "acme", key: "k4", fingerprint: "f", nowMs: 100) == .replay(jobID: "job-4"))
        #expect(keys.claim(tenant: "acme", key: "k0", fingerprint: "f", nowMs: 100) == .claimed)  // pushed out

        // Abandoned and claimed again: the old slot leaving must not take the new claim with it.
        let fresh = IdempotencyKeys(ttlMs: 1_000, capacity: 100)
        #expect(fresh.claim(tenant: "acme", key: "a", fingerprint: "f", nowMs: 0) == .claimed)
        fresh.abandon(tenant: "acme", key: "a")
        #expect(fresh.claim(tenant: "acme", key: "a", fingerprint: "f", nowMs: 900) == .claimed)
        #expect(fresh.claim(tenant: "acme", key: "b", fingerprint: "f", nowMs: 1_100) == .claimed)  // evicts the slot of t=0
        #expect(fresh.claim(tenant: "acme", key: "a", fingerprint: "f", nowMs: 1_200) == .inProgress)
        #expect(fresh.claim(tenant: "acme", key: "a", fingerprint: "g", nowMs: 1_200) == .conflict)
        #expect(fresh.claim(tenant: "acme", key: "a", fingerprint: "f", nowMs: 2_000) == .claimed)  // expired
    }
}
