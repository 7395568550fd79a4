import SluiceCore

/// Verifies an audit export (`sluice audit export --format jsonl`) with nothing but the file and
/// the public key: every event's hash, every link, every checkpoint's signature, and the signed
/// heads and Merkle roots as far as the export holds their events.
///
/// `public_key` records in the file are ignored: the key must come from elsewhere (the
/// operator, `GET /v1/audit/public-key`), or a forger could bring their own. An export in which
/// no event is vouched for by a signed head fails: re-hashing a whole chain is easy, forging a
/// signature is not.
public struct AuditExportVerifier {
    private var chain = AuditChainVerifier()
    private var checkpoints: [AuditCheckpoint] = []
    private var hashBySeq: [Int64: [UInt8]] = [:]
    private var hashByPosition: [String: [Int64: [UInt8]]] = [:]
    private let publicKeys: [String: [UInt8]]
    private var line = 0

    public init(publicKeys: [[UInt8]]) {
        var keys: [String: [UInt8]] = [:]
        for key in publicKeys { keys[AuditSigner.keyID(publicKey: key)] = key }
        self.publicKeys = keys
    }

    /// Feeds one line of the export. Returns false once a failure is recorded.
    @discardableResult
    public mutating func feed(_ bytes: some Collection<UInt8>) -> Bool {
        line += 1
        guard chain.report.ok else { return false }
        do {
            let json = try JSONValue.parse(bytes)
            switch json["record"]?.stringValue {
            case "checkpoint":
                checkpoints.append(try AuditCheckpoint(json: json))
            case "event":
                let event = try ChainedAuditEvent(json: json)
                guard chain.check(event) else { return false }
                hashBySeq[event.seq] = event.hash
                hashByPosition[event.event.tenant, default: [:]][event.chainIndex] = event.hash
            default:
                break
            }
            return true
        } catch {
            var report = chain.report
            report.failure = AuditVerification.Failure(kind: "format", message: "line \(line): \(error)")
            chain = AuditChainVerifier(failing: report)
            return false
        }
    }

    /// Checks the checkpoints against what was fed, and returns the verdict.
    public mutating func finish() -> AuditVerification {
        guard chain.report.ok else { return chain.report }
        var previous: AuditCheckpoint?
        var vouched = 0
        for checkpoint in checkpoints.sorted(by: { $0.seq < $1.seq }) {
            var leaves: [[UInt8]]? = []
            for seq in checkpoint.firstSeq...max(checkpoint.firstSeq, checkpoint.lastSeq) {
                guard let hash = hashBySeq[seq] else { leaves = nil; break }
                leaves?.append(hash)
            }
            // A tenant-filtered export lacks the other tenants' leaves: the root cannot be
            // recomputed then, but signature and heads still can.
            chain.check(checkpoint: checkpoint, previous: previous?.seq == checkpoint.seq - 1 ? previous : nil, publicKeys: publicKeys, leaves: leaves)
            for (tenant, head) in checkpoint.heads.sorted(by: { $0.key < $1.key }) {
                guard let positions = hashByPosition[tenant], let found = positions[head.length] else { continue }
                chain.checkHead(tenant: tenant, head: head, foundHash: found, checkpointSeq: checkpoint.seq, what: "checkpoint \(checkpoint.seq)")
                vouched += 1
            }
            guard chain.report.ok else { return chain.report }
            previous = checkpoint
        }
        let covered = checkpoints.map(\.lastSeq).max() ?? 0
        chain.noteUncovered(Int64(hashBySeq.keys.filter { $0 > covered }.count))
        var report = chain.report
        if report.ok, report.eventsChecked > 0, vouched == 0 {
            report.failure = AuditVerification.Failure(
                kind: "unsigned", message: "no event of the export is vouched for by a signed checkpoint head (export after a checkpoint, or check the public key)")
        }
        return report
    }
}

extension AuditChainVerifier {
    /// A verifier that has already failed with `report`.
    init(failing report: AuditVerification) {
        self.init()
        self.report = report
    }
}
