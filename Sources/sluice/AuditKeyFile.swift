import Foundation
import Ledger
import Logging

/// The checkpoint-signing key on disk: one line, the Ed25519 private key's 32-byte seed in hex.
///
/// Created on first start when absent, with mode 0600 (`O_CREAT | O_EXCL`, so two processes
/// starting together cannot both write one). A key readable by group or others is used but
/// reported: whoever can read it can sign checkpoints.
enum AuditKeyFile {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func loadOrCreate(path: String, logger: Logger) throws -> AuditSigner {
        if !FileManager.default.fileExists(atPath: path) {
            let seed = AuditSigner.generateSeed()
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if fd >= 0 {
                let text = Array((hex(seed) + "\n").utf8)
                let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                let synced = fsync(fd)
                close(fd)
                guard written == text.count, synced == 0 else {
                    throw Failure(description: "ledger.signing_key_file: could not write \(path) (errno \(errno))")
                }
                logger.notice("created the audit checkpoint signing key", metadata: ["path": "\(path)"])
            } else if errno != EEXIST {
                throw Failure(description: "ledger.signing_key_file: cannot create \(path) (errno \(errno))")
            }
        }
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0
        {
            logger.warning("the audit signing key is readable by others; chmod 600 it", metadata: ["path": "\(path)"])
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Failure(description: "ledger.signing_key_file: cannot read \(path)")
        }
        guard let seed = unhex(text.trimmingCharacters(in: .whitespacesAndNewlines)), seed.count == 32 else {
            throw Failure(description: "ledger.signing_key_file: \(path) must hold 64 hex digits (an Ed25519 seed)")
        }
        return try AuditSigner(seed: seed)
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
