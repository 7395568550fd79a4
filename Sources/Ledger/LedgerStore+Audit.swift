import Foundation
import GRDB
import SluiceCore

// MARK: - Signing keys and checkpoints

extension LedgerStore {
    /// Publishes the signer's public key in `audit_signing_keys` (once; later calls change nothing).
    public func registerSigningKey(_ signer: AuditSigner) throws {
        let nowMs = clock.nowMs()
        try LedgerError.mapping {
            try pool.write { db in
                try db.execute(
                    sql: "INSERT OR IGNORE INTO audit_signing_keys (key_id, public_key, created_at_ms) VALUES (?, ?, ?)",
                    arguments: [signer.keyID, Data(signer.publicKey), nowMs])
            }
        }
    }

    /// When to write the next checkpoint.
    public struct CheckpointPolicy: Sendable {
        /// A checkpoint once the previous one is this old and events arrived since.
        public var intervalMs: Int64
        /// A checkpoint as soon as this many events arrived since the previous one.
        public var everyEvents: Int64

        public init(intervalMs: Int64, everyEvents: Int64) {
            self.intervalMs = intervalMs
            self.everyEvents = everyEvents
        }

        /// Every time events arrived (tests, shutdown).
        public static let always = CheckpointPolicy(intervalMs: 0, everyEvents: 1)
    }

    /// Writes a signed checkpoint over the events since the previous one, when `policy` says
    /// one is due and there are such events.
    ///
    /// - Returns: The checkpoint written, or nil.
    @discardableResult
    public func checkpointIfDue(signer: AuditSigner, policy: CheckpointPolicy) async throws -> AuditCheckpoint? {
        let nowMs = clock.nowMs()
        return try await LedgerError.mapping {
            try await pool.write { db in try Self.checkpoint(signer: signer, policy: policy, nowMs: nowMs, in: db) }
        }
    }

    private static func checkpoint(signer: AuditSigner, policy: CheckpointPolicy, nowMs: Int64, in db: Database) throws -> AuditCheckpoint? {
        let previous = try lastCheckpoint(in: db)
        let fromSeq = (previous?.lastSeq ?? 0) + 1
        guard let lastSeq = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM audit_events"), lastSeq >= fromSeq else { return nil }
        let pending = lastSeq - fromSeq + 1
        let age = nowMs - (previous?.atMs ?? 0)
        guard pending >= policy.everyEvents || age >= policy.intervalMs else { return nil }

        let leaves = try Data.fetchAll(
            db, sql: "SELECT hash FROM audit_events WHERE seq BETWEEN ? AND ? ORDER BY seq", arguments: [fromSeq, lastSeq]
        ).map { Array($0) }
        var heads: [String: AuditCheckpoint.Head] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT tenant, length, hash FROM audit_chain_heads") {
            let hash: Data = row[2]
            heads[row[0]] = AuditCheckpoint.Head(length: row[1], hash: Array(hash))
        }
        var checkpoint = AuditCheckpoint(
            seq: (previous?.seq ?? 0) + 1, atMs: nowMs, firstSeq: fromSeq, lastSeq: lastSeq, eventCount: Int64(leaves.count),
            merkleRoot: MerkleTree.root(leaves), heads: heads,
            previous: previous.map { AuditHashing.sha256($0.signedBody.canonicalJSON()) } ?? AuditHashing.genesis,
            keyID: signer.keyID, signature: [])
        checkpoint.signature = try signer.sign(checkpoint.signedBody)
        try db.execute(
            sql: """
                INSERT INTO audit_checkpoints
                    (seq, at_ms, first_seq, last_seq, event_count, merkle_root, heads, previous, key_id, signature)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                checkpoint.seq, checkpoint.atMs, checkpoint.firstSeq, checkpoint.lastSeq, checkpoint.eventCount,
                Data(checkpoint.merkleRoot), String(decoding: headsJSON(heads).canonicalJSON(), as: UTF8.self),
                Data(checkpoint.previous), checkpoint.keyID, Data(checkpoint.signature),
            ])
        return checkpoint
    }

    private static func headsJSON(_ heads: [String: AuditCheckpoint.Head]) -> JSONValue {
        .object(heads.mapValues { .object(["length": .int($0.length), "hash": .string(Hex.encode($0.hash))]) })
    }

    private static let checkpointColumns = "seq, at_ms, first_seq, last_seq, event_count, merkle_root, heads, previous, key_id, signature"

    private static func checkpoint(from row: Row) throws -> AuditCheckpoint {
        let root: Data = row[5], previous: Data = row[7], signature: Data = row[9]
        let headsText: String = row[6]
        var heads: [String: AuditCheckpoint.Head] = [:]
        do {
            for (tenant, value) in try JSONValue.parse(Array(headsText.utf8)).objectValue ?? [:] {
                guard let length = value["length"]?.intValue, let hash = value["hash"]?.stringValue.flatMap(Hex.decode) else {
                    throw LedgerError(code: .encoding, message: "checkpoint \(row[0] as Int64) has a malformed head for \(tenant)")
                }
                heads[tenant] = AuditCheckpoint.Head(length: length, hash: hash)
            }
        } catch let error as JSONParseError {
            throw LedgerError(code: .encoding, message: "checkpoint \(row[0] as Int64) heads are not JSON: \(error)")
        }
        return AuditCheckpoint(
            seq: row[0], atMs: row[1], firstSeq: row[2], lastSeq: row[3], eventCount: row[4], merkleRoot: Array(root),
            heads: heads, previous: Array(previous), keyID: row[8], signature: Array(signature))
    }

    private static func lastCheckpoint(in db: Database) throws -> AuditCheckpoint? {
        try Row.fetchOne(db, sql: "SELECT \(checkpointColumns) FROM audit_checkpoints ORDER BY seq DESC LIMIT 1").map(checkpoint(from:))
    }

    /// Every checkpoint, oldest first.
    public func auditCheckpoints() throws -> [AuditCheckpoint] {
        try LedgerError.mapping {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT \(Self.checkpointColumns) FROM audit_checkpoints ORDER BY seq").map(Self.checkpoint(from:))
            }
        }
    }

    /// Each tenant's chain head: what two ledgers fed by the same topics agree on.
    public func auditHeads() throws -> [String: AuditCheckpoint.Head] {
        try LedgerError.mapping {
            try pool.read { db in
                var heads: [String: AuditCheckpoint.Head] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT tenant, length, hash FROM audit_chain_heads") {
                    let hash: Data = row[2]
                    heads[row[0]] = AuditCheckpoint.Head(length: row[1], hash: Array(hash))
                }
                return heads
            }
        }
    }
}

// MARK: - Reading for auditors

extension LedgerStore: AuditReader {
    public func auditPublicKeys() async throws -> [AuditPublicKey] {
        try await LedgerError.mapping {
            try await pool.read { db in try Self.publicKeys(in: db) }
        }
    }

    private static func publicKeys(in db: Database) throws -> [AuditPublicKey] {
        try Row.fetchAll(db, sql: "SELECT key_id, public_key, created_at_ms FROM audit_signing_keys ORDER BY created_at_ms DESC, key_id")
            .map { row in
                let key: Data = row[1]
                return AuditPublicKey(keyID: row[0], publicKey: Array(key), createdAtMs: row[2])
            }
    }

    public func auditEvents(_ query: AuditQuery) async throws -> AuditEventPage {
        try await LedgerError.mapping {
            try await pool.read { db in try Self.auditEvents(query, in: db) }
        }
    }

    static func auditEvents(_ query: AuditQuery, in db: Database) throws -> AuditEventPage {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        var joinsJob = false
        if let tenants = query.tenants {
            guard !tenants.isEmpty else { return AuditEventPage(events: [], nextCursor: nil) }
            clauses.append("e.tenant IN (\(Array(repeating: "?", count: tenants.count).joined(separator: ",")))")
            arguments += tenants.sorted()
        }
        if let type = query.type { clauses.append("e.type = ?"); arguments.append(type) }
        if let jobID = query.jobID { clauses.append("e.job_id = ?"); arguments.append(jobID) }
        if let fromMs = query.fromMs { clauses.append("e.at_ms >= ?"); arguments.append(fromMs) }
        if let toMs = query.toMs { clauses.append("e.at_ms < ?"); arguments.append(toMs) }
        if let afterSeq = query.afterSeq { clauses.append("e.seq > ?"); arguments.append(afterSeq) }
        if let batchID = query.batchID { clauses.append("j.batch_id = ?"); arguments.append(batchID); joinsJob = true }
        if let model = query.model { clauses.append("j.model = ?"); arguments.append(model); joinsJob = true }
        if let outcome = query.outcome { clauses.append("j.status = ?"); arguments.append(outcome); joinsJob = true }
        if let provider = query.provider {
            clauses.append("EXISTS (SELECT 1 FROM results r WHERE r.job_id = e.job_id AND (r.route = ? OR substr(r.route, 1, ?) = ?))")
            arguments += [provider, provider.utf8.count + 1, provider + "/"]
        }
        if let keyID = query.keyID {
            clauses.append("""
                EXISTS (SELECT 1 FROM audit_events a WHERE a.job_id = e.job_id AND a.type = 'job.accepted'
                        AND json_extract(a.detail, '$.key_id') = ?)
                """)
            arguments.append(keyID)
        }
        let limit = min(max(query.limit, 1), AuditQuery.maxLimit)
        let sql = """
            SELECT e.* FROM audit_events e \(joinsJob ? "JOIN jobs j ON j.id = e.job_id" : "")
            \(clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "))
            ORDER BY e.seq LIMIT \(limit + 1)
            """
        let rows = try AuditEventRecord.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
        let page = try rows.prefix(limit).map { try $0.chained() }
        let next = rows.count > limit ? page.last.map { String($0.seq) } : nil
        return AuditEventPage(events: page, nextCursor: next)
    }

    public func auditProof(eventID: String) async throws -> AuditProofLookup {
        try await LedgerError.mapping {
            try await pool.read { db in try Self.proof(eventID: eventID, in: db) }
        }
    }

    private static func proof(eventID: String, in db: Database) throws -> AuditProofLookup {
        guard let row = try AuditEventRecord.fetchOne(db, sql: "SELECT * FROM audit_events WHERE id = ?", arguments: [eventID]),
            let seq = row.seq
        else { return .notFound }
        guard
            let checkpointRow = try Row.fetchOne(
                db, sql: "SELECT \(checkpointColumns) FROM audit_checkpoints WHERE first_seq <= ? AND last_seq >= ? ORDER BY seq LIMIT 1",
                arguments: [seq, seq])
        else { return .pending(tenant: row.tenant) }
        let checkpoint = try checkpoint(from: checkpointRow)
        let leaves = try Data.fetchAll(
            db, sql: "SELECT hash FROM audit_events WHERE seq BETWEEN ? AND ? ORDER BY seq",
            arguments: [checkpoint.firstSeq, checkpoint.lastSeq]
        ).map { Array($0) }
        let index = try Int.fetchOne(
            db, sql: "SELECT count(*) FROM audit_events WHERE seq BETWEEN ? AND ?", arguments: [checkpoint.firstSeq, seq]) ?? 1
        guard let path = MerkleTree.path(leaves, index: index - 1) else { return .pending(tenant: row.tenant) }
        return .proof(
            AuditProof(event: try row.chained(), leafIndex: Int64(index - 1), leafCount: Int64(leaves.count), path: path, checkpoint: checkpoint))
    }

    public func verifyAudit(tenant: String?, fromMs: Int64?, toMs: Int64?) async throws -> AuditVerification {
        try await LedgerError.mapping {
            try await pool.read { db in try Self.verify(tenant: tenant, fromMs: fromMs, toMs: toMs, in: db) }
        }
    }

    /// ``verifyAudit(tenant:fromMs:toMs:)`` on the calling thread (the CLI).
    public func verifyAuditBlocking(tenant: String?, fromMs: Int64?, toMs: Int64?) throws -> AuditVerification {
        try LedgerError.mapping {
            try pool.read { db in try Self.verify(tenant: tenant, fromMs: fromMs, toMs: toMs, in: db) }
        }
    }

    /// Rows read per statement while walking a chain.
    private static let verifyPage = 5_000

    private static func verify(tenant: String?, fromMs: Int64?, toMs: Int64?, in db: Database) throws -> AuditVerification {
        var verifier = AuditChainVerifier()
        let tenants = try tenant.map { [$0] } ?? String.fetchAll(db, sql: "SELECT DISTINCT tenant FROM audit_events ORDER BY tenant")
        let ranged = fromMs != nil || toMs != nil
        for tenant in tenants {
            // A time range picks the chain positions between its first and last event; the
            // walk covers every position in between, so nothing inside it can hide.
            var lowIndex: Int64 = 1
            var highIndex = Int64.max
            if ranged {
                let bounds = try Row.fetchOne(
                    db, sql: "SELECT min(chain_index), max(chain_index) FROM audit_events WHERE tenant = ? AND at_ms >= ? AND at_ms < ?",
                    arguments: [tenant, fromMs ?? Int64.min, toMs ?? Int64.max])
                guard let low: Int64 = bounds?[0], let high: Int64 = bounds?[1] else { continue }
                lowIndex = low
                highIndex = high
            }
            var after = lowIndex - 1
            while true {
                let rows = try AuditEventRecord.fetchAll(
                    db, sql: "SELECT * FROM audit_events WHERE tenant = ? AND chain_index > ? AND chain_index <= ? ORDER BY chain_index LIMIT ?",
                    arguments: [tenant, after, highIndex, verifyPage])
                guard let last = rows.last else { break }
                for row in rows {
                    guard verifier.check(try row.chained()) else { return verifier.report }
                }
                after = last.chainIndex ?? highIndex
            }
            let unchained = try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_events WHERE tenant = ? AND chain_index IS NULL", arguments: [tenant]) ?? 0
            if unchained > 0, let id = try String.fetchOne(db, sql: "SELECT id FROM audit_events WHERE tenant = ? AND chain_index IS NULL ORDER BY seq LIMIT 1", arguments: [tenant]) {
                var report = verifier.report
                report.failure = AuditVerification.Failure(
                    kind: "chain_index", message: "event \(id) of tenant \(tenant) has no place in the chain (\(unchained) such event(s))",
                    eventID: id, tenant: tenant)
                return report
            }
            if !ranged {
                let stored = try Row.fetchOne(db, sql: "SELECT length, hash FROM audit_chain_heads WHERE tenant = ?", arguments: [tenant])
                let computed = verifier.heads[tenant]
                if let stored {
                    let hash: Data = stored[1]
                    let head = AuditCheckpoint.Head(length: stored[0], hash: Array(hash))
                    verifier.checkHead(tenant: tenant, head: head, foundHash: computed?.length == head.length ? computed?.hash : nil, checkpointSeq: nil, what: "the ledger's chain head table")
                    if verifier.report.ok, let computed, computed.length != head.length {
                        var report = verifier.report
                        report.failure = AuditVerification.Failure(
                            kind: "head", message: "tenant \(tenant)'s chain holds \(computed.length) events but its head says \(head.length)",
                            tenant: tenant, chainIndex: computed.length, expected: Hex.encode(head.hash), found: Hex.encode(computed.hash))
                        return report
                    }
                }
            }
            guard verifier.report.ok else { return verifier.report }
        }

        // Checkpoints: signature, link to the previous one, Merkle root, and the heads of the
        // tenants in scope against the events at those positions.
        let keys = Dictionary(try publicKeys(in: db).map { ($0.keyID, $0.publicKey) }, uniquingKeysWith: { first, _ in first })
        var previous: AuditCheckpoint?
        let checkpoints = try Row.fetchAll(db, sql: "SELECT \(checkpointColumns) FROM audit_checkpoints ORDER BY seq").map(checkpoint(from:))
        let scope = Set(tenants)
        for checkpoint in checkpoints {
            if ranged, let fromMs, checkpoint.atMs < fromMs { previous = checkpoint; continue }
            let leaves = try Data.fetchAll(
                db, sql: "SELECT hash FROM audit_events WHERE seq BETWEEN ? AND ? ORDER BY seq",
                arguments: [checkpoint.firstSeq, checkpoint.lastSeq]
            ).map { Array($0) }
            verifier.check(checkpoint: checkpoint, previous: previous, publicKeys: keys, leaves: leaves)
            for (tenant, head) in checkpoint.heads.sorted(by: { $0.key < $1.key }) where scope.contains(tenant) {
                let found = try Data.fetchOne(
                    db, sql: "SELECT hash FROM audit_events WHERE tenant = ? AND chain_index = ?", arguments: [tenant, head.length])
                verifier.checkHead(tenant: tenant, head: head, foundHash: found.map { Array($0) }, checkpointSeq: checkpoint.seq, what: "checkpoint \(checkpoint.seq)")
            }
            guard verifier.report.ok else { return verifier.report }
            previous = checkpoint
        }
        let covered = checkpoints.last?.lastSeq ?? 0
        var uncovered: Int64 = 0
        for tenant in tenants {
            uncovered += try Int64.fetchOne(db, sql: "SELECT count(*) FROM audit_events WHERE tenant = ? AND seq > ?", arguments: [tenant, covered]) ?? 0
        }
        verifier.noteUncovered(uncovered)
        return verifier.report
    }
}

// MARK: - Export

extension LedgerStore {
    /// Streams the audit log as JSON records, checkpoints first (so an offline verifier knows
    /// which heads to check while it reads the events), then events of each tenant in chain
    /// order. Every record has `"record": "checkpoint"` or `"event"`.
    ///
    /// - Parameters:
    ///   - tenant: One tenant's chain, or (nil) every tenant's.
    ///   - fromMs, toMs: Only the chain positions between the first and last event in this range.
    ///   - emit: Called once per record, on the calling thread.
    public func exportAudit(tenant: String?, fromMs: Int64?, toMs: Int64?, _ emit: (JSONValue) throws -> Void) throws {
        try LedgerError.mapping {
            try pool.read { db in
                for row in try Row.fetchAll(db, sql: "SELECT \(Self.checkpointColumns) FROM audit_checkpoints ORDER BY seq") {
                    guard case .object(var fields) = try Self.checkpoint(from: row).json else { continue }
                    fields["record"] = "checkpoint"
                    try emit(.object(fields))
                }
                for key in try Self.publicKeys(in: db) {
                    guard case .object(var fields) = key.json else { continue }
                    fields["record"] = "public_key"
                    try emit(.object(fields))
                }
                let tenants = try tenant.map { [$0] } ?? String.fetchAll(db, sql: "SELECT DISTINCT tenant FROM audit_events ORDER BY tenant")
                for tenant in tenants {
                    var low: Int64 = 1
                    var high = Int64.max
                    if fromMs != nil || toMs != nil {
                        let bounds = try Row.fetchOne(
                            db, sql: "SELECT min(chain_index), max(chain_index) FROM audit_events WHERE tenant = ? AND at_ms >= ? AND at_ms < ?",
                            arguments: [tenant, fromMs ?? Int64.min, toMs ?? Int64.max])
                        guard let l: Int64 = bounds?[0], let h: Int64 = bounds?[1] else { continue }
                        low = l
                        high = h
                    }
                    var after = low - 1
                    while true {
                        let rows = try AuditEventRecord.fetchAll(
                            db, sql: "SELECT * FROM audit_events WHERE tenant = ? AND chain_index > ? AND chain_index <= ? ORDER BY chain_index LIMIT ?",
                            arguments: [tenant, after, high, Self.verifyPage])
                        guard let last = rows.last else { break }
                        for row in rows {
                            guard case .object(var fields) = try row.chained().json else { continue }
                            fields["record"] = "event"
                            try emit(.object(fields))
                        }
                        after = last.chainIndex ?? high
                    }
                }
            }
        }
    }
}

// MARK: - Retention

extension LedgerStore {
    /// Removes the payloads of one tenant's audit events older than `beforeMs` (their `detail`)
    /// and the provider answers of its jobs that finished before then (`results.response`).
    ///
    /// The events' skeletons, digests and hashes stay, so the chain, the checkpoints and the
    /// proofs still verify; a purged event says so (`payload_purged`) wherever it is shown.
    ///
    /// - Returns: How many events and results lost their payload.
    @discardableResult
    public func purgePayloads(tenant: String, beforeMs: Int64) throws -> (events: Int, results: Int) {
        let nowMs = clock.nowMs()
        return try LedgerError.mapping {
            try pool.write { db in try Self.purge(tenant: tenant, beforeMs: beforeMs, nowMs: nowMs, in: db) }
        }
    }

    private static func purge(tenant: String, beforeMs: Int64, nowMs: Int64, in db: Database) throws -> (events: Int, results: Int) {
        try db.execute(
            sql: "UPDATE audit_events SET detail = NULL, purged_at_ms = ? WHERE tenant = ? AND at_ms < ? AND purged_at_ms IS NULL",
            arguments: [nowMs, tenant, beforeMs])
        let events = db.changesCount
        try db.execute(
            sql: "UPDATE results SET response = NULL WHERE tenant = ? AND finished_at_ms < ? AND response IS NOT NULL",
            arguments: [tenant, beforeMs])
        return (events, db.changesCount)
    }
}

// MARK: - Erasure and retention policies

extension LedgerStore {
    /// What erasing a tenant removed.
    public struct Erasure: Sendable, Equatable {
        /// Whether the tenant had a data key that was destroyed (false: nothing was ever sealed
        /// for it, or it was erased before).
        public var destroyedKey: Bool
        public var events: Int
        public var results: Int
        public var requests: Int
    }

    /// Erases a tenant (crypto-shredding): destroys its data key, so every payload sealed with
    /// it (also in backups and copies of the file) can no longer be read, and removes the
    /// payloads still here: audit details, provider answers, stored requests.
    ///
    /// The audit events' skeletons, payload digests and hashes stay, so the chain, checkpoints
    /// and proofs still verify. The tenant stays erased: payloads of its later records are not
    /// kept (it gets no new key).
    public func eraseTenant(_ tenant: String) throws -> Erasure {
        let nowMs = clock.nowMs()
        return try LedgerError.mapping {
            try pool.write { db in
                try db.execute(
                    sql: "UPDATE tenant_data_keys SET wrapped_key = NULL, erased_at_ms = ? WHERE tenant = ? AND wrapped_key IS NOT NULL",
                    arguments: [nowMs, tenant])
                let destroyed = db.changesCount > 0
                try db.execute(
                    sql: "INSERT INTO tenant_data_keys (tenant, wrapped_key, created_at_ms, erased_at_ms) VALUES (?, NULL, ?, ?) ON CONFLICT (tenant) DO NOTHING",
                    arguments: [tenant, nowMs, nowMs])
                try db.execute(
                    sql: "UPDATE audit_events SET detail = NULL, purged_at_ms = ? WHERE tenant = ? AND purged_at_ms IS NULL",
                    arguments: [nowMs, tenant])
                let events = db.changesCount
                try db.execute(sql: "UPDATE results SET response = NULL WHERE tenant = ? AND response IS NOT NULL", arguments: [tenant])
                let results = db.changesCount
                try db.execute(sql: "DELETE FROM job_requests WHERE tenant = ?", arguments: [tenant])
                return Erasure(destroyedKey: destroyed, events: events, results: results, requests: db.changesCount)
            }
        }
    }

    /// Whether the tenant was erased.
    public func isErased(_ tenant: String) throws -> Bool {
        try LedgerError.mapping {
            try pool.read { db in
                try Bool.fetchOne(
                    db, sql: "SELECT erased_at_ms IS NOT NULL FROM tenant_data_keys WHERE tenant = ?", arguments: [tenant]) ?? false
            }
        }
    }

    /// Applies a retention policy once: for every tenant with a retention period, the payloads
    /// older than that period are purged (``purgePayloads(tenant:beforeMs:)``).
    ///
    /// - Returns: Per tenant purged, how many events and results lost their payload.
    ///
    /// Runs on GRDB's queues, one transaction per tenant, so that neither a cooperative thread
    /// nor the writer is held for the whole sweep.
    @discardableResult
    public func applyRetention(_ policy: RetentionPolicy) async throws -> [String: (events: Int, results: Int)] {
        guard policy.defaultDays != nil || !policy.tenantDays.isEmpty else { return [:] }
        let nowMs = clock.nowMs()
        let tenants = try await LedgerError.mapping {
            try await pool.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT tenant FROM jobs") }
        }
        var purged: [String: (events: Int, results: Int)] = [:]
        for tenant in Set(tenants).union(policy.tenantDays.keys).sorted() {
            guard let days = policy.tenantDays[tenant] ?? policy.defaultDays, days > 0 else { continue }
            // Days are range-checked in configuration (at most 36,500); saturate anyway.
            let ageMs = Int64(days).multipliedReportingOverflow(by: 86_400_000)
            guard !ageMs.overflow else { continue }
            let cutoff = nowMs.subtractingReportingOverflow(ageMs.partialValue)
            guard !cutoff.overflow, cutoff.partialValue > 0 else { continue }
            let beforeMs = cutoff.partialValue
            let result = try await LedgerError.mapping {
                try await pool.write { db in try Self.purge(tenant: tenant, beforeMs: beforeMs, nowMs: nowMs, in: db) }
            }
            if result.events > 0 || result.results > 0 { purged[tenant] = result }
        }
        return purged
    }
}

/// How long payloads (prompts, provider answers, audit details) are kept, per tenant.
public struct RetentionPolicy: Sendable, Equatable {
    /// Days for tenants without their own period; nil or 0 keeps their payloads.
    public var defaultDays: Int?
    /// Days per tenant; 0 keeps that tenant's payloads whatever the default says.
    public var tenantDays: [String: Int]

    public init(defaultDays: Int? = nil, tenantDays: [String: Int] = [:]) {
        self.defaultDays = defaultDays
        self.tenantDays = tenantDays
    }
}
