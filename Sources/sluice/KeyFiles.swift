import Foundation
import Ledger
import Logging

/// The ledger's secret keys on disk, each one line of 64 hex digits (32 bytes): the audit
/// checkpoint-signing key (an Ed25519 seed) and the master key that wraps the tenants' data keys.
///
/// Created on first start when absent, with mode 0600 (`O_CREAT | O_EXCL`, so two processes
/// starting together cannot both write one). A key readable by group or others is used but
/// reported.
enum KeyFiles {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The checkpoint signer of `ledger.signing_key_file`.
    static func auditSigner(path: String, logger: Logger) throws -> AuditSigner {
        let seed = try loadOrCreate(
            path: path, setting: "ledger.signing_key_file", what: "the audit checkpoint signing key (an Ed25519 seed)",
            generate: AuditSigner.generateSeed, logger: logger)
        return try AuditSigner(seed: seed)
    }

    /// The payload cipher of `ledger.master_key_file`, or of `SLUICE_LEDGER_MASTER_KEY` when set.
    ///
    /// - Parameter create: make the file when absent (the ledger's writer); a process that only
    ///   reads the ledger (`sluice ingress`) waits for the writer to have made it.
    static func payloadCipher(path: String, create: Bool, logger: Logger) throws -> PayloadCipher {
        if let text = ProcessInfo.processInfo.environment["SLUICE_LEDGER_MASTER_KEY"] {
            guard let key = unhex(text.trimmingCharacters(in: .whitespacesAndNewlines)), key.count == 32 else {
                throw Failure(description: "SLUICE_LEDGER_MASTER_KEY must be 64 hex digits (32 bytes)")
            }
            return try PayloadCipher(masterKey: key)
        }
        if !create, !FileManager.default.fileExists(atPath: path) {
            throw Failure(description: "ledger.master_key_file: \(path) does not exist (the ledger creates it on its first start; or set SLUICE_LEDGER_MASTER_KEY)")
        }
        let key = try loadOrCreate(
            path: path, setting: "ledger.master_key_file", what: "the ledger master key", generate: PayloadCipher.generateMasterKey,
            logger: logger)
        return try PayloadCipher(masterKey: key)
    }

    private static func loadOrCreate(
        path: String, setting: String, what: String, generate: () -> [UInt8], logger: Logger
    ) throws -> [UInt8] {
        if !FileManager.default.fileExists(atPath: path) {
            let key = generate()
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if fd >= 0 {
                let text = Array((hex(key) + "\n").utf8)
                let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                let synced = fsync(fd)
                close(fd)
                guard written == text.count, synced == 0 else {
                    throw Failure(description: "\(setting): could not write \(path) (errno \(errno))")
                }
                logger.notice("created \(what)", metadata: ["path": "\(path)"])
            } else if errno != EEXIST {
                throw Failure(description: "\(setting): cannot create \(path) (errno \(errno))")
            }
        }
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0
        {
            logger.warning("\(what) is readable by others; chmod 600 it", metadata: ["path": "\(path)"])
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Failure(description: "\(setting): cannot read \(path)")
        }
        guard let key = unhex(text.trimmingCharacters(in: .whitespacesAndNewlines)), key.count == 32 else {
            throw Failure(description: "\(setting): \(path) must hold 64 hex digits (\(what))")
        }
        return key
    }

    private static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    private static func unhex(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < chars.count {
            guard let byte = UInt8(String(decoding: chars[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
            i += 2
        }
        return out
    }
}
