import Foundation
import Ledger
import SluiceCore

/// A ledger in a fresh temporary file, removed (with its WAL companions) when the test ends.
struct TemporaryLedger: ~Copyable {
    let path: String
    let store: LedgerStore

    /// - Parameter cipher: seals payloads at rest, as `sluice ledger` does by default.
    init(cipher: PayloadCipher? = nil, clock: WallClock = .system) throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("ledger-test-\(UUIDv7.generate()).sqlite").path
        store = try LedgerStore(path: path, clock: clock, cipher: cipher)
    }

    deinit {
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }
}

// MARK: - Records

/// Builders for the envelopes a job produces on its way through Sluice.
enum Fixture {
    static let tenant = "acme"
    static let model = "gpt-4o-mini"

    static func accepted(
        _ jobID: String, tenant: String = tenant, atMs: Int64 = 1_000, priority: String = "p0",
        metadata: JSONValue? = ["team": "search"], batchID: String? = nil
    ) -> LedgerRecord {
        var detail: [String: JSONValue] = ["model": .string(model), "priority": .string(priority)]
        if let metadata { detail["metadata"] = metadata }
        if let batchID { detail["batch_id"] = .string(batchID) }
        detail["idempotency_key"] = .string("key-\(jobID)")
        return .audit(
            AuditEvent(
                type: .accepted, tenant: tenant, jobID: jobID, attempt: 1, atMs: atMs, actor: "ingress",
                detail: .object(detail)))
    }

    static func event(
        _ type: AuditEventType, _ jobID: String, tenant: String = tenant, attempt: Int = 1, atMs: Int64
    ) -> LedgerRecord {
        .audit(AuditEvent(type: type, tenant: tenant, jobID: jobID, attempt: attempt, atMs: atMs, actor: "worker:test"))
    }

    static let response: JSONValue = [
        "object": "chat.completion",
        "choices": [["index": 0, "message": ["role": "assistant", "content": "hello"]]],
    ]

    static func succeeded(_ jobID: String, tenant: String = tenant, attempt: Int = 1) -> LedgerRecord {
        .result(
            ResultEnvelope(
                jobID: jobID, tenant: tenant, attempt: attempt, status: .succeeded, model: model,
                route: "openai/gpt-4o-mini", response: response,
                usage: Usage(promptTokens: 12, completionTokens: 5), startedAtMs: 2_000, finishedAtMs: 3_000))
    }

    static func failed(_ jobID: String, error: JobError, tenant: String = tenant) -> LedgerRecord {
        .result(
            ResultEnvelope(
                jobID: jobID, tenant: tenant, attempt: 1, status: .failed, model: model, error: error,
                startedAtMs: 2_000, finishedAtMs: 2_500))
    }
}
