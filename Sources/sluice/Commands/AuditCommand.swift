import ArgumentParser
import Foundation
import Ledger
import SluiceCore

/// `sluice audit verify | export | verify-proof`: the auditor's tools over the ledger file, or
/// (offline) over an export and a public key alone.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Verify, export and prove the audit log.",
        subcommands: [Verify.self, Export.self, VerifyProof.self, Purge.self, EraseTenant.self])

    /// Unix milliseconds or an RFC 3339 date-time, as the HTTP API takes them.
    static func time(_ text: String?, option: String) throws -> Int64? {
        guard let text else { return nil }
        if let ms = Int64(text), Wire.timestampRangeMs.contains(ms) { return ms }
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = withFraction.date(from: text) ?? ISO8601DateFormatter().date(from: text),
            let ms = Int64(exactly: (date.timeIntervalSince1970 * 1_000).rounded()), Wire.timestampRangeMs.contains(ms)
        else { throw ValidationError("--\(option) must be Unix milliseconds or an RFC 3339 date-time, got '\(text)'") }
        return ms
    }

    /// The public keys in a key file: the JSON of `GET /v1/audit/public-key`, or hex keys one per line.
    static func publicKeys(file: String) throws -> [[UInt8]] {
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read --public-key \(file)") }
        if let json = try? JSONValue.parse(Array(data)), case .object = json {
            var keys: [[UInt8]] = []
            for entry in [json] + (json["keys"]?.arrayValue ?? []) {
                if let hex = entry["public_key"]?.stringValue, let key = Hex.decode(hex), key.count == 32 { keys.append(key) }
            }
            guard !keys.isEmpty else { throw ValidationError("--public-key \(file) holds no 'public_key' of 64 hex digits") }
            return keys
        }
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let keys = lines.compactMap { Hex.decode($0) }.filter { $0.count == 32 }
        guard !keys.isEmpty, keys.count == lines.count else {
            throw ValidationError("--public-key \(file) must hold the public-key JSON or Ed25519 public keys in hex, one per line")
        }
        return keys
    }

    static func report(_ report: AuditVerification) throws {
        print(String(decoding: report.json.serialized(), as: UTF8.self))
        if let failure = report.failure {
            FileHandle.standardError.write(Data("audit verification FAILED: \(failure.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    // MARK: - verify

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the audit chains and checkpoints; print a JSON report; exit 1 at the first broken link.")

        @OptionGroup var options: CommonOptions
        @Option(help: "Only this tenant's chain.") var tenant: String?
        @Option(help: "From this time (Unix ms or RFC 3339).") var from: String?
        @Option(help: "To this time, exclusive.") var to: String?
        @Option(help: "Verify this JSONL export offline instead of the ledger (needs --public-key).") var file: String?
        @Option(name: .customLong("public-key"), help: "The signing public key: the JSON of GET /v1/audit/public-key, or hex.") var publicKey: String?

        func run() async throws {
            if let file {
                guard let publicKey else { throw ValidationError("--file needs --public-key") }
                var verifier = AuditExportVerifier(publicKeys: try AuditCommand.publicKeys(file: publicKey))
                guard let handle = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot read --file \(file)") }
                try JSONLines.read(handle) { line in verifier.feed(line) }
                try AuditCommand.report(verifier.finish())
                return
            }
            let fromMs = try AuditCommand.time(from, option: "from")
            let toMs = try AuditCommand.time(to, option: "to")
            let wiring = try options.wiring("sluice.audit")
            let store = try wiring.ledgerStore(readOnly: true)
            try AuditCommand.report(try store.verifyAuditBlocking(tenant: tenant, fromMs: fromMs, toMs: toMs))
        }
    }

    // MARK: - export

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stream the audit log with its chain fields (checkpoints first in JSONL).")

        @OptionGroup var options: CommonOptions
        @Option(help: "jsonl or csv.") var format: String = "jsonl"
        @Option(help: "Only this tenant's chain.") var tenant: String?
        @Option(help: "From this time (Unix ms or RFC 3339).") var from: String?
        @Option(help: "To this time, exclusive.") var to: String?
        @Option(help: "Write here instead of standard output.") var output: String?

        func validate() throws {
            guard format == "jsonl" || format == "csv" else { throw ValidationError("--format must be jsonl or csv") }
        }

        func run() async throws {
            let fromMs = try AuditCommand.time(from, option: "from")
            let toMs = try AuditCommand.time(to, option: "to")
            let wiring = try options.wiring("sluice.audit")
            let store = try wiring.ledgerStore(readOnly: true)
            let handle: FileHandle
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil), let h = FileHandle(forWritingAtPath: output) else {
                    throw ValidationError("cannot write --output \(output)")
                }
                handle = h
            } else {
                handle = FileHandle.standardOutput
            }
            var buffer: [UInt8] = []
            let csv = format == "csv"
            if csv { buffer.append(contentsOf: (CSVRow.header + "\n").utf8) }
            try store.exportAudit(tenant: tenant, fromMs: fromMs, toMs: toMs) { record in
                if csv {
                    guard record["record"]?.stringValue == "event" else { return }
                    buffer.append(contentsOf: (CSVRow.line(record) + "\n").utf8)
                } else {
                    record.writeCanonical(into: &buffer)
                    buffer.append(UInt8(ascii: "\n"))
                }
                if buffer.count >= 1 << 16 {
                    try handle.write(contentsOf: buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            try handle.write(contentsOf: buffer)
            if output != nil { try handle.close() }
        }
    }

    // MARK: - verify-proof

    struct VerifyProof: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-proof",
            abstract: "Check an inclusion proof (GET /v1/audit/events/{id}/proof) with the public key alone.")

        @Option(help: "The proof JSON file.") var proof: String
        @Option(name: .customLong("public-key"), help: "The signing public key: the JSON of GET /v1/audit/public-key, or hex.") var publicKey: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: proof) else { throw ValidationError("cannot read --proof \(proof)") }
            let parsed: AuditProof
            do {
                parsed = try AuditProof(json: try JSONValue.parse(Array(data)))
            } catch {
                throw ValidationError("--proof \(proof) is not an audit proof: \(error)")
            }
            let keys = try AuditCommand.publicKeys(file: publicKey)
            let problems = keys.map { AuditProofVerifier.problem(parsed, publicKey: $0) }
            if problems.contains(where: { $0 == nil }) {
                print("proof OK: event \(parsed.event.event.id) (tenant \(parsed.event.event.tenant), chain index \(parsed.event.chainIndex)) is in signed checkpoint \(parsed.checkpoint.seq)")
                return
            }
            FileHandle.standardError.write(Data("proof FAILED: \(problems.compactMap { $0 }.first ?? "no key")\n".utf8))
            throw ExitCode(1)
        }
    }
}

extension AuditCommand {
    /// `sluice audit purge`: retention by hand (or from cron); the chain keeps verifying.
    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove one tenant's payloads (event details, provider answers) older than a number of days; hashes stay.")

        @OptionGroup var options: CommonOptions
        @Option(help: "The tenant whose payloads go.") var tenant: String
        @Option(name: .customLong("older-than-days"), help: "Payloads older than this many days (0–36500).") var olderThanDays: Int

        func validate() throws {
            guard (0...36_500).contains(olderThanDays) else { throw ValidationError("--older-than-days must be between 0 and 36500") }
        }

        func run() async throws {
            let wiring = try options.wiring("sluice.audit")
            let store = try wiring.ledgerStore()
            let cutoff = WallClock.system.nowMs() - Int64(olderThanDays) * 86_400_000
            let purged = try store.purgePayloads(tenant: tenant, beforeMs: cutoff)
            print("purged the payloads of \(purged.events) audit events and \(purged.results) results of tenant \(tenant)")
        }
    }
}

extension AuditCommand {
    /// `sluice audit erase-tenant`: crypto-shredding, for a tenant's right to erasure.
    struct EraseTenant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "erase-tenant",
            abstract: "Destroy a tenant's data key and payloads (prompts, answers, event details); the audit chain keeps verifying.")

        @OptionGroup var options: CommonOptions
        @Option(help: "The tenant to erase.") var tenant: String
        @Option(help: "The tenant id again, to confirm: this cannot be undone.") var confirm: String

        func validate() throws {
            guard confirm == tenant else { throw ValidationError("--confirm must repeat the tenant id; nothing was erased") }
        }

        func run() async throws {
            let wiring = try options.wiring("sluice.audit")
            let store = try wiring.ledgerStore()
            let erased = try store.eraseTenant(tenant)
            print("""
                erased tenant \(tenant): data key \(erased.destroyedKey ? "destroyed" : "absent (nothing was sealed)"), \
                payloads removed from \(erased.events) audit events, \(erased.results) results and \(erased.requests) stored requests
                """)
        }
    }
}

/// Reads a file line by line without loading it whole.
enum JSONLines {
    static func read(_ handle: FileHandle, _ body: ([UInt8]) -> Bool) throws {
        var pending: [UInt8] = []
        while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
            pending.append(contentsOf: chunk)
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[start..<newline]
                if !line.isEmpty, !body(Array(line)) { return }
                start = newline + 1
            }
            pending.removeFirst(start)
        }
        if !pending.isEmpty { _ = body(pending) }
    }
}

/// The CSV form of an exported event (RFC 4180 quoting); `detail` is its JSON text.
enum CSVRow {
    static let columns = [
        "seq", "id", "tenant", "job_id", "type", "attempt", "at_ms", "actor", "chain_index", "prev_hash", "hash",
        "payload_sha256", "payload_purged", "detail",
    ]
    static let header = columns.joined(separator: ",")

    static func line(_ record: JSONValue) -> String {
        columns.map { column in
            let value = record[column]
            let text: String
            switch value {
            case .string(let s): text = s
            case .int(let i): text = String(i)
            case .bool(let b): text = b ? "true" : "false"
            case nil, .null?: text = ""
            case let other?: text = String(decoding: other.canonicalJSON(), as: UTF8.self)
            }
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",")
    }
}
