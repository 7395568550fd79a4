import Crypto
import Foundation
import SluiceCore

/// Signs checkpoints with an Ed25519 key.
///
/// The executable reads (or creates) the key file and hands over the raw 32-byte seed; the
/// ledger publishes the public half in `audit_signing_keys`, so a reader process (the ingress)
/// can serve it without access to the private key.
public struct AuditSigner: Sendable {
    /// The seed rather than swift-crypto's key type, which is not `Sendable` on Linux; the key
    /// is rebuilt per signature (microseconds, once per checkpoint).
    private let seed: [UInt8]
    /// The first 16 hex digits of SHA-256(public key): short, and enough to tell keys apart.
    public let keyID: String
    public let publicKey: [UInt8]

    /// - Throws: ``LedgerError`` (`encoding`) when `seed` is not a 32-byte Ed25519 private key.
    public init(seed: [UInt8]) throws {
        let key: Curve25519.Signing.PrivateKey
        do {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        } catch {
            throw LedgerError(code: .encoding, message: "the signing key is not a 32-byte Ed25519 private key: \(error)")
        }
        self.seed = seed
        publicKey = Array(key.publicKey.rawRepresentation)
        keyID = Self.keyID(publicKey: publicKey)
    }

    /// A new random key's seed (32 bytes), for a first start.
    public static func generateSeed() -> [UInt8] {
        Array(Curve25519.Signing.PrivateKey().rawRepresentation)
    }

    public static func keyID(publicKey: [UInt8]) -> String {
        String(Hex.encode(AuditHashing.sha256(publicKey)).prefix(16))
    }

    /// The signature of the canonical JSON of `body`.
    func sign(_ body: JSONValue) throws -> [UInt8] {
        do {
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
            return Array(try key.signature(for: body.canonicalJSON()))
        } catch {
            throw LedgerError(code: .encoding, message: "signing a checkpoint failed: \(error)")
        }
    }
}

/// Checks checkpoint signatures against published keys.
public enum AuditSignature {
    /// Whether `checkpoint.signature` is a valid Ed25519 signature of its signed body by `publicKey`.
    public static func isValid(_ checkpoint: AuditCheckpoint, publicKey: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(checkpoint.signature, for: checkpoint.signedBody.canonicalJSON())
    }
}
