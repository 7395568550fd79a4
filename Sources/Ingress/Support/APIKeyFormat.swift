import Crypto
import SluiceCore

/// Sluice API keys: `sk-sluice-` + a 16-character key id + a 32-character secret, letters and
/// digits only. The key id is public (lists, audit, revocation); the ledger keeps only a random
/// salt and SHA-256(salt || key), so a copy of the database does not give out working keys.
public enum APIKeyFormat {
    public static let prefix = "sk-sluice-"
    static let idLength = 16
    static let secretLength = 32
    private static let idAlphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
    private static let secretAlphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)

    /// A new key and what the ledger stores of it. The key is shown once and never kept.
    public static func generate(
        tenant: String, role: String, nowMs: Int64, expiresAtMs: Int64? = nil, grants: [String] = []
    ) -> (key: String, stored: StoredAPIKey) {
        var random = SystemRandomNumberGenerator()
        func draw(_ alphabet: [UInt8], _ count: Int) -> String {
            String(decoding: (0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] }, as: UTF8.self)
        }
        let keyID = draw(idAlphabet, idLength)
        let key = prefix + keyID + draw(secretAlphabet, secretLength)
        let salt = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &random) }
        let stored = StoredAPIKey(
            keyID: keyID, tenant: tenant, role: role, salt: salt, hash: digest(key, salt: salt), createdAtMs: nowMs,
            expiresAtMs: expiresAtMs, grants: grants)
        return (key, stored)
    }

    /// The key id of a token shaped like a generated key, or nil.
    public static func keyID(of token: String) -> String? {
        let bytes = token.utf8
        guard bytes.count == prefix.utf8.count + idLength + secretLength, token.hasPrefix(prefix) else { return nil }
        let id = bytes.dropFirst(prefix.utf8.count).prefix(idLength)
        guard id.allSatisfy({ idAlphabet.contains($0) }) else { return nil }
        return String(decoding: id, as: UTF8.self)
    }

    static func digest(_ key: String, salt: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: salt)
        hasher.update(data: Array(key.utf8))
        return Array(hasher.finalize())
    }

    /// Compares in time independent of where the digests differ.
    static func matches(_ key: String, salt: [UInt8], hash: [UInt8]) -> Bool {
        let computed = digest(key, salt: salt)
        guard computed.count == hash.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(computed, hash) { difference |= a ^ b }
        return difference == 0
    }
}
