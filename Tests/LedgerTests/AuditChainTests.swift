import Foundation
import GRDB
import Ledger
import SluiceCore
import Testing

/// The audit hash chain, checkpoints, proofs and the tamper checks (issue 9, tests 1–3).
@Suite("Audit chain", .timeLimit(.minutes(2)))
struct AuditChainTests {
    static let signer = try! AuditSigner(seed: Array(repeating: 7, count: 32))

    /// `jobs` jobs of each tenant, three events each, interleaved across tenants.
    static func events(jobs: Int, tenants: [String] = ["acme", "globex"]) -> [LedgerRecord] {
        var records: [LedgerRecord] = []
        for i in 0..<jobs {
            for tenant in tenants {
                let id = UUIDv7.generate()
                let at = Int64(1_000 + i)
                records.append(Fixture.accepted(id, tenant: tenant, atMs: at))
                records.append(Fixture.event(.started, id, tenant: tenant, atMs: at + 1))
                records.append(.audit(AuditEvent(
                    type: .succeeded, tenant: tenant, jobID: id, attempt: 1, atMs: at + 2, actor: "worker:test",
                    detail: ["route": "openai/gpt-4o-mini", "total_tokens": 17, "note": .string("job \(i) ünïcode")])))
            }
        }
        return records
    }

    /// Raw SQL on the ledger file, as someone with write access to it could do.
    static func tamper(_ path: String, _ body: (Database) throws -> Void) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write(body)
    }

    static func row(_ path: String, tenant: String, index: Int64) throws -> Row {
        try DatabaseQueue(path: path).read { db in
            try #require(try Row.fetchOne(db, sql: "SELECT * FROM audit_events WHERE tenant = ? AND chain_index = ?", arguments: [tenant, index]))
        }
    }

    // MARK: - Chaining

    @Test("every event is chained per tenant; an untouched ledger verifies")
    func untouchedVerifies() async throws {
        let ledger = try TemporaryLedger()
        try ledger.store.registerSigningKey(Self.signer)
        try ledger.store.apply(Self.events(jobs: 20))
        try await ledger.store.checkpointIfDue(signer: Self.signer, policy: .always)
        try ledger.store.apply(Self.events(jobs: 5))
        let heads = try ledger.store.auditHeads()
        #expect(heads["acme"]?.length == 75)
        #expect(heads["globex"]?.length == 75)
        let report = try ledger.store.verifyAuditBlocking(tenant: nil, fromMs: nil, toMs: nil)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.eventsChecked == 150)
        #expect(report.checkpointsChecked == 1)
        #expect(report.eventsAfterLastCheckpoint == 30)
        // acme's events with at_ms in 1,015…1,019 belong to jobs 13–19 of the first batch: chain
        // positions 42 (job 13's job.succeeded) to 58 (job 19's job.accepted), all walked.
        let one = try ledger.store.verifyAuditBlocking(tenant: "acme", fromMs: 1_015, toMs: 1_020)
        #expect(one.ok)
        #expect(one.eventsChecked == 17)
    }

    @Test("redelivery chains nothing twice, and two ledgers fed the same records reach the same heads")
    func idempotentAndReproducible() throws {
        let records = Self.events(jobs: 30)
        let a = try TemporaryLedger(), b = try TemporaryLedger()
        try a.store.apply(records)
        // b gets them in other batch sizes, with redeliveries (a batch repeated, an old one late).
        try b.store.apply(Array(records[0..<50]))
        try b.store.apply(Array(records[0..<50]))
        try b.store.apply(Array(records[50..<120]))
        try b.store.apply(Array(records[10..<20]))
        try b.store.apply(Array(records[120...]))
        #expect(try a.store.auditHeads() == b.store.auditHeads())
        #expect(try b.store.counts().auditEvents == records.count)
        #expect(try b.store.verifyAuditBlocking(tenant: nil, fromMs: nil, toMs: nil).ok)
    }

    @Test("a replayed run's events carry their replay number into the chain; changing it is caught")
    func replayInChain() throws {
        let ledger = try TemporaryLedger()
        let job = UUIDv7.generate()
        let replayed = AuditEvent(type: .started, tenant: "acme", jobID: job, attempt: 1, atMs: 5_000, actor: "worker:test", replay: 2)
        try ledger.store.apply([Fixture.accepted(job), .audit(replayed)])
        #expect(try ledger.store.verifyAuditBlocking(tenant: nil, fromMs: nil, toMs: nil).ok)
        try Self.tamper(ledger.path) { db in
            try db.execute(sql: "UPDATE audit_events SET replay = 1 WHERE id = ?", arguments: [replayed.id])
        }
        let failure = try #require(try ledger.store.verifyAuditBlocking(tenant: nil, fromMs: nil, toMs: nil).failure)
        #expect(failure.kind == "hash" && failure.eventID == replayed.id)
    }

    // MARK: - Tampering (issue test 1)

    @Test("a changed payload is named: the event, and its recorded and actual digests")
    func payloadTamper() throws {
        let ledger = try TemporaryLedger()
        try ledger.store.apply(Self.events(jobs: 10))
        let victim = try Self.row(ledger.path, tenant: "acme", index: 14)
        try Self.tamper(ledger.path) { db in
            try db.execute(sql: "UPDATE audit_events SET detail = ? WHERE id = ?", arguments: [#"{"route":"evil/model","total_tokens":1}"#, victim["id"] as String])
        }
        let report = try ledger.store.verifyAuditBlocking(tenant: nil, fromMs: nil, toMs: nil)
        let failure = try #require(report.failure)
        #expect(failure.kind == "payload")
        #expect(failure.eventID == victim["id"])
        #expect(failure.chainIndex == 14)
        #expect(failure.expected == Hex.encode(Array(victim["payload_digest"] as Data)))
        #expect(failure.found != failure.expected)
    }

    @Test("a changed skeleton field is named with the expected and stored hash")
    func skeletonTamper() throws {
        let ledger = try TemporaryLedger()
        try ledger.store.apply(Self.events(jobs: 10))
        let victim = try Self.row(ledger.path, tenant: "globex", index: 7)
        try Self.tamper(ledger.path) { db in
            try db.execute(sql: "UPDATE audit_events SET actor = 'someone-else' WHERE id = ?", arguments: [victim["id"] as String])
        }
        let failure = try #require(try ledger.store.verifyAuditBlocking(tenant: "globex", fromMs: nil, toMs: nil).failure)
        #expect(failure.kind == "hash")
        #expect(failure.eventID == victim["id"])
        #expect(failure.found == Hex.encode(Array(victim["hash"] as Data)))
    }

    @Test("two events swapped in the order: the moved event is named")
    func orderTamper() throws {
        let ledger = try TemporaryLedger()
        try ledger.store.apply(Self.events(jobs: 10))
        let first = try Self.row(ledger.path, tenant: "acme", index: 5)
        let second = try Self.row(ledger.path, tenant: "acme", index: 6)
        try Self.tamper(ledger.path) { db in
            try db.execute(sql: "UPDATE audit_events SET chain_index = -1 WHERE id = ?", arguments: [first["id"] as String])
            try db.execute(sql: "UPDATE audit_events SET chain_index = 5 WHERE id = ?", arguments: [second["id"] as String])
            try db.execute(sql: "UPDATE audit_events SET chain_index = 6 WHERE id = ?", arguments: [first["id"] as String])
        }
        let failure = try #require(try ledger.store.verifyAuditBlocking(tenant: nil, fromMs: nil, toMs: nil).failure)
        #expect(failure.kind == "prev_hash")
        #expect(failure.eventID == second["id"])
        #expect(failure.chainIndex == 5)
        #expect(failure.found == Hex.encode(Array(second["prev_hash"] as Data)))
    }

    @Test("a deleted event: the event after the gap is named, with the hash it should follow")
    func deletionTamper() throws {
        let ledger = try TemporaryLedger()
        try ledger.store.apply(Self.events(jobs: 10))
        let before = try Self.row(ledger.path, tenant: "acme", index: 8)
        let gone = try Self.row(ledger.path, tenant: "acme", index: 9)
        let after = try Self.row(ledger.path, tenant: "acme", index: 10)
        try Self.tamper(ledger.path) { db in
            try db.execute(sql: "DELETE FROM audit_events WHERE id = ?", arguments: [gone["id"] as String])
        }
        let failure = try #require(try ledger.store.verifyAuditBlocking(tenant: nil, fromMs: nil, toMs: nil).failure)
        #expect(failure.kind == "prev_hash")
        #expect(failure.eventID == after["id"])
        #expect(failure.expected == Hex.encode(Array(before["hash"] as Data)))
        #expect(failure.found == Hex.encode(Array(gone["hash"] as Data)))
        #expect(failure.message.contains("1 event(s) before it are missing"))
    }

    @Test("an inserted event, even one hashed correctly onto its predecessor, is named")
    func insertionTamper() throws {
        let ledger = try TemporaryLedger()
        try ledger.store.apply(Self.events(jobs: 10))
        let predecessor = try Self.row(ledger.path, tenant: "acme", index: 12)
        let forged = AuditEvent(type: .cancelled, tenant: "acme", jobID: predecessor["job_id"], attempt: 1, atMs: 1_100, actor: "forger")
        let digest = AuditHashing.payloadDigest(nil)
        let hash = AuditHashing.link(prevHash: Array(predecessor["hash"] as Data), event: forged, payloadDigest: digest)
        try Self.tamper(ledger.path) { db in
            // Make room at index 13 (via negative numbers: the index is unique).
            try db.execute(sql: "UPDATE audit_events SET chain_index = -(chain_index + 1) WHERE tenant = 'acme' AND chain_index >= 13")
            try db.execute(sql: "UPDATE audit_events SET chain_index = -chain_index WHERE tenant = 'acme' AND chain_index < 0")
            try db.execute(
                sql: """
                    INSERT INTO audit_events (id, tenant, job_id, type, attempt, at_ms, actor, detail, prev_hash, hash, chain_index, payload_digest)
                    VALUES (?, 'acme', ?, 'job.cancelled', 1, 1100, 'forger', NULL, ?, ?, 13, ?)
                    """,
                arguments: [forged.id, forged.jobID, predecessor["hash"] as Data, Data(hash), Data(digest)])
        }
        let failure = try #require(try ledger.store.verifyAuditBlocking(tenant: nil, fromMs: nil, toMs: nil).failure)
        #expect(failure.kind == "inserted")
        #expect(failure.eventID == forged.id)
        #expect(failure.chainIndex == 13)
    }

    @Test("a chain re-hashed after a change verifies link by link but not against the signed checkpoint")
    func rehashedChainFailsCheckpoint() async throws {
        let ledger = try TemporaryLedger()
        try ledger.store.apply(Self.events(jobs: 10))
        try ledger.store.registerSigningKey(Self.signer)
        try await ledger.store.checkpointIfDue(signer: Self.signer, policy: .always)
        // Rewrite acme's event 3 and recompute every later hash and the head, as a careful forger would.
        try Self.tamper(ledger.path) { db in
            var prev = [UInt8](repeating: 0, count: 32)
            for row in try Row.fetchAll(db, sql: "SELECT * FROM audit_events WHERE tenant = 'acme' ORDER BY chain_index") {
                var event = AuditEvent(
                    id: row["id"], type: AuditEventType(rawValue: row["type"]), tenant: "acme", jobID: row["job_id"],
                    attempt: row["attempt"], atMs: row["at_ms"], actor: row["actor"])
                if (row["chain_index"] as Int64) == 3 { event.actor = "forged" }
                let hash = AuditHashing.link(prevHash: prev, event: event, payloadDigest: Array(row["payload_digest"] as Data))
                try db.execute(
                    sql: "UPDATE audit_events SET actor = ?, prev_hash = ?, hash = ? WHERE id = ?",
                    arguments: [event.actor, Data(prev), Data(hash), event.id])
                prev = hash
            }
            try db.execute(sql: "UPDATE audit_chain_heads SET hash = ? WHERE tenant = 'acme'", arguments: [Data(prev)])
        }
        let failure = try #require(try ledger.store.verifyAuditBlocking(tenant: "acme", fromMs: nil, toMs: nil).failure)
        #expect(failure.kind == "merkle_root" || failure.kind == "head")
        #expect(failure.checkpointSeq == 1)
    }

    // MARK: - Checkpoints, signatures, proofs (issue test 3)

    @Test("checkpoints chain to each other and are signed; a changed checkpoint fails its signature")
    func checkpointSignatures() async throws {
        let ledger = try TemporaryLedger()
        try ledger.store.registerSigningKey(Self.signer)
        try ledger.store.apply(Self.events(jobs: 4))
        let first = try #require(try await ledger.store.checkpointIfDue(signer: Self.signer, policy: .always))
        #expect(try await ledger.store.checkpointIfDue(signer: Self.signer, policy: .always) == nil, "no new events, no checkpoint")
        try ledger.store.apply(Self.events(jobs: 3))
        let second = try #require(try await ledger.store.checkpointIfDue(signer: Self.signer, policy: .always))
        #expect(first.eventCount == 24 && second.eventCount == 18)
        #expect(second.previous == AuditHashing.sha256(first.signedBody.canonicalJSON()))
        #expect(AuditSignature.isValid(second, publicKey: Self.signer.publicKey))
        var forged = second
        forged.heads["acme"]?.length += 1
        #expect(!AuditSignature.isValid(forged, publicKey: Self.signer.publicKey))
        let other = try AuditSigner(seed: Array(repeating: 9, count: 32))
        #expect(!AuditSignature.isValid(second, publicKey: other.publicKey))
        #expect(try await ledger.store.auditPublicKeys().map(\.keyID) == [Self.signer.keyID])
    }

    @Test("Merkle paths lead to the root for every leaf of every tree size; a wrong leaf does not")
    func merkle() {
        for count in 1...17 {
            let leaves = (0..<count).map { AuditHashing.sha256([UInt8(truncatingIfNeeded: $0)]) }
            let root = MerkleTree.root(leaves)
            for index in 0..<count {
                let path = MerkleTree.path(leaves, index: index) ?? []
                #expect(MerkleTree.root(from: leaves[index], path: path) == root, "size \(count) index \(index)")
                #expect(MerkleTree.root(from: AuditHashing.sha256([0xFF, 0xFE]), path: path) != root)
            }
        }
    }

    @Test("an inclusion proof verifies with the public key alone; a forged event, path or key does not")
    func proofs() async throws {
        let ledger = try TemporaryLedger()
        try ledger.store.registerSigningKey(Self.signer)
        let records = Self.events(jobs: 7)
        try ledger.store.apply(records)
        guard case .audit(let target) = records[10] else { Issue.record("fixture"); return }
        #expect(try await ledger.store.auditProof(eventID: target.id) == .pending(tenant: target.tenant))
        try await ledger.store.checkpointIfDue(signer: Self.signer, policy: .always)
        guard case .proof(let proof) = try await ledger.store.auditProof(eventID: target.id) else {
            Issue.record("no proof")
            return
        }
        // Through its JSON, as a third party gets it.
        let received = try AuditProof(json: try JSONValue.parse(proof.json.serialized()))
        #expect(AuditProofVerifier.problem(received, publicKey: Self.signer.publicKey) == nil)

        var forged = received
        forged.event.event.actor = "forger"
        #expect(AuditProofVerifier.problem(forged, publicKey: Self.signer.publicKey) != nil)
        var rehashed = forged
        rehashed.event.hash = AuditHashing.link(prevHash: forged.event.prevHash, event: forged.event.event, payloadDigest: forged.event.payloadDigest)
        #expect(AuditProofVerifier.problem(rehashed, publicKey: Self.signer.publicKey)?.contains("Merkle path") == true)
        let other = try AuditSigner(seed: Array(repeating: 9, count: 32))
        #expect(AuditProofVerifier.problem(received, publicKey: other.publicKey) != nil)
        #expect(try await ledger.store.auditProof(eventID: UUIDv7.generate()) == .notFound)
    }

    // MARK: - Export (issue test 2)

    static func export(_ store: LedgerStore, tenant: String? = nil) throws -> [[UInt8]] {
        var lines: [[UInt8]] = []
        try store.exportAudit(tenant: tenant, fromMs: nil, toMs: nil) { lines.append($0.canonicalJSON()) }
        return lines
    }

    static func verify(_ lines: [[UInt8]], key: [UInt8] = signer.publicKey) -> AuditVerification {
        var verifier = AuditExportVerifier(publicKeys: [key])
        for line in lines { verifier.feed(line) }
        return verifier.finish()
    }

    @Test("an export verifies offline with the public key alone; a modified export does not")
    func exportOffline() async throws {
        let ledger = try TemporaryLedger()
        try ledger.store.registerSigningKey(Self.signer)
        try ledger.store.apply(Self.events(jobs: 6))
        try await ledger.store.checkpointIfDue(signer: Self.signer, policy: .always)
        let lines = try Self.export(ledger.store)
        let report = Self.verify(lines)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.eventsChecked == 36 && report.checkpointsChecked == 1)
        #expect(Self.verify(try Self.export(ledger.store, tenant: "globex")).ok)

        // A changed payload.
        let index = try #require(lines.firstIndex { String(decoding: $0, as: UTF8.self).contains("\"job.succeeded\"") })
        var changed = lines
        changed[index] = Array(String(decoding: lines[index], as: UTF8.self).replacingOccurrences(of: "\"total_tokens\":17", with: "\"total_tokens\":1").utf8)
        let failure = try #require(Self.verify(changed).failure)
        #expect(failure.kind == "payload")
        #expect(failure.eventID == (try JSONValue.parse(lines[index]))["id"]?.stringValue)

        // A removed line.
        var removed = lines
        removed.remove(at: index)
        #expect(Self.verify(removed).failure?.kind == "prev_hash")

        // The wrong key.
        #expect(Self.verify(lines, key: try AuditSigner(seed: Array(repeating: 3, count: 32)).publicKey).failure?.kind == "signature")

        // Checkpoints stripped and the whole chain rehashed by a forger: nothing signed vouches for it.
        let unsigned = lines.filter { !String(decoding: $0, as: UTF8.self).contains("\"record\":\"checkpoint\"") }
        #expect(Self.verify(unsigned).failure?.kind == "unsigned")
    }

    // MARK: - Retention (issue test 4, purge part)

    @Test("purged payloads are gone, the skeletons stay queryable, and the chain, checkpoint, export and proofs still verify")
    func purgeKeepsChain() async throws {
        let ledger = try TemporaryLedger()
        try ledger.store.registerSigningKey(Self.signer)
        let records = Self.events(jobs: 10)
        try ledger.store.apply(records)
        try await ledger.store.checkpointIfDue(signer: Self.signer, policy: .always)
        // acme's events before at_ms 1,005: jobs 0–4's accepted, 0–3's started, 0–2's succeeded.
        let purged = try ledger.store.purgePayloads(tenant: "acme", beforeMs: 1_005)
        #expect(purged.events == 12)
        #expect(try ledger.store.verifyAuditBlocking(tenant: nil, fromMs: nil, toMs: nil).ok)

        var query = AuditQuery(tenants: ["acme"])
        query.toMs = 1_005
        let page = try await ledger.store.auditEvents(query)
        #expect(page.events.count == 12)
        #expect(page.events.allSatisfy { $0.payloadPurged && $0.event.detail == nil && $0.hash.count == 32 })
        query.toMs = nil
        query.fromMs = 1_005
        let later = try await ledger.store.auditEvents(query).events
        #expect(later.count == 18 && later.allSatisfy { !$0.payloadPurged })
        #expect(later.filter { $0.event.type != .started }.allSatisfy { $0.event.detail != nil })
        #expect(try await ledger.store.auditEvents(AuditQuery(tenants: ["globex"])).events.allSatisfy { !$0.payloadPurged })

        #expect(Self.verify(try Self.export(ledger.store)).ok)
        guard case .audit(let first) = records[0], case .proof(let proof) = try await ledger.store.auditProof(eventID: first.id) else {
            Issue.record("no proof for a purged event")
            return
        }
        #expect(proof.event.payloadPurged)
        #expect(AuditProofVerifier.problem(proof, publicKey: Self.signer.publicKey) == nil)
    }
}
