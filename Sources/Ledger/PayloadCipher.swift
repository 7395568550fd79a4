import Crypto
import Foundation
import GRDB
import SluiceCore
import Synchronization

/// Encrypts the payloads the ledger keeps (prompts in `job_requests`, provider answers in
/// `results.response`) with a data key of their tenant, so that erasing a tenant is destroying
/// one small key (crypto-shredding): every copy of its payloads, backups included, becomes
/// unreadable at once, while the audit chain (which hashes a payload's digest, never the
/// payload) still verifies.
///
/// Each tenant's data key is a random 256-bit AES key, stored in `tenant_data_keys` wrapped
/// (AES-GCM) by the master key, which never touches the database: it comes from a file or the
/// environment (`ledger.master_key_file`, `SLUICE_LEDGER_MASTER_KEY`). Payloads are sealed with
/// AES-GCM under a fresh 96-bit nonce each; the associated data binds a sealed value to its
/// tenant, job and column, so that a value copied into another row does not open.
///
/// Stored forms: text columns hold `sealed1:` followed by base64 of nonce, ciphertext and tag;
/// blob columns hold the 4 bytes `SLD1` followed by the same. Values without the prefix were
/// written before encryption was enabled and are read as they are.
public final class PayloadCipher: Sendable {
    /// Kept as bytes (Sendable); a `SymmetricKey` is made per use, which costs a copy of 32 bytes.
    private let masterKeyBytes: [UInt8]
    private var masterKey: SymmetricKey { SymmetricKey(data: masterKeyBytes) }
    /// Data keys already unwrapped, by tenant, with the wrapped form they came from. Every use
    /// still reads the tenant's row (so an erasure by another process takes effect at once);
    /// only the AES-GCM unwrap is skipped while the row holds the same wrapped key.
    private let unwrapped = Mutex<[String: (wrapped: Data, key: [UInt8])]>([:])
    /// Bounds the cache; past it the cache starts over (tenants are few in practice).
    private static let cachedTenants = 10_000

    /// Text prefix of a sealed value.
    static let textPrefix = "sealed1:"
    /// Blob prefix of a sealed value.
    static let blobPrefix: [UInt8] = Array("SLD1".utf8)

    /// - Parameter masterKey: 32 bytes.
    /// - Throws: ``LedgerError`` with code `configuration` for a key of another length.
    public init(masterKey: [UInt8]) throws {
        guard masterKey.count == 32 else {
            throw LedgerError(code: .configuration, message: "the ledger master key must be 32 bytes, found \(masterKey.count)")
        }
        self.masterKeyBytes = masterKey
    }

    /// A new random master key (32 bytes), for `sluice` to write into a fresh key file.
    public static func generateMasterKey() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    /// What a tenant's key lookup found.
    enum TenantKey {
        case key(SymmetricKey)
        /// The tenant was erased: its payloads are gone and new ones are not kept.
        case erased
        /// No key yet (nothing sealed for this tenant so far).
        case none
    }

    // MARK: - Keys

    func tenantKey(_ tenant: String, in db: Database) throws -> TenantKey {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT wrapped_key FROM tenant_data_keys WHERE tenant = ?"), arguments: [tenant])
        else { return .none }
        guard let wrapped: Data = row[0] else { return .erased }
        if let cached = unwrapped.withLock({ $0[tenant] }), cached.wrapped == wrapped {
            return .key(SymmetricKey(data: cached.key))
        }
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped)
            let raw = Array(try AES.GCM.open(box, using: masterKey, authenticating: Self.wrapContext(tenant)))
            unwrapped.withLock { cache in
                if cache.count >= Self.cachedTenants { cache.removeAll() }
                cache[tenant] = (wrapped, raw)
            }
            return .key(SymmetricKey(data: raw))
        } catch {
            throw LedgerError(
                code: .configuration,
                message: "the data key of tenant '\(tenant)' does not open with this master key (a different ledger.master_key_file?)")
        }
    }

    /// The tenant's key, created (in the caller's write transaction) when it has none; nil for
    /// an erased tenant.
    func keyForWriting(_ tenant: String, nowMs: Int64, in db: Database) throws -> SymmetricKey? {
        switch try tenantKey(tenant, in: db) {
        case .key(let key): return key
        case .erased: return nil
        case .none:
            let key = SymmetricKey(size: .bits256)
            let wrapped = try key.withUnsafeBytes { raw in
                try AES.GCM.seal(Array(raw), using: masterKey, authenticating: Self.wrapContext(tenant)).combined
            }
            guard let wrapped else { throw LedgerError(code: .encoding, message: "AES-GCM gave no combined form") }
            try db.execute(
                sql: "INSERT INTO tenant_data_keys (tenant, wrapped_key, created_at_ms) VALUES (?, ?, ?)",
                arguments: [tenant, wrapped, nowMs])
            return key
        }
    }

    private static func wrapContext(_ tenant: String) -> Data { Data("sluice-tenant-data-key|\(tenant)".utf8) }

    private static func context(tenant: String, jobID: String, column: String) -> Data {
        Data("\(column)|\(tenant)|\(jobID)".utf8)
    }

    // MARK: - Sealing

    /// The sealed text form of `text`, or nil for an erased tenant (nothing is kept).
    func sealText(_ text: String?, tenant: String, jobID: String, column: String, nowMs: Int64, in db: Database) throws -> String? {
        guard let text else { return nil }
        guard let key = try keyForWriting(tenant, nowMs: nowMs, in: db) else { return nil }
        let sealed = try seal(Array(text.utf8), key: key, context: Self.context(tenant: tenant, jobID: jobID, column: column))
        return Self.textPrefix + sealed.base64EncodedString()
    }

    /// The sealed blob form of `bytes`, or nil for an erased tenant.
    func sealBlob(_ bytes: [UInt8], tenant: String, jobID: String, column: String, nowMs: Int64, in db: Database) throws -> Data? {
        guard let key = try keyForWriting(tenant, nowMs: nowMs, in: db) else { return nil }
        return Data(Self.blobPrefix) + (try seal(bytes, key: key, context: Self.context(tenant: tenant, jobID: jobID, column: column)))
    }

    private func seal(_ bytes: [UInt8], key: SymmetricKey, context: Data) throws -> Data {
        guard let combined = try AES.GCM.seal(bytes, using: key, authenticating: context).combined else {
            throw LedgerError(code: .encoding, message: "AES-GCM gave no combined form")
        }
        return combined
    }

    // MARK: - Opening

    /// The plaintext of a stored text value; nil when there is none or the tenant was erased.
    func openText(_ stored: String?, tenant: String, jobID: String, column: String, in db: Database) throws -> String? {
        guard let stored, stored.hasPrefix(Self.textPrefix) else { return stored }
        guard let combined = Data(base64Encoded: String(stored.dropFirst(Self.textPrefix.count))) else {
            throw LedgerError(code: .encoding, message: "\(column) of job \(jobID) is not valid sealed data")
        }
        guard let bytes = try open(combined, tenant: tenant, context: Self.context(tenant: tenant, jobID: jobID, column: column), in: db)
        else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The plaintext of a stored blob; nil when the tenant was erased.
    func openBlob(_ stored: Data, tenant: String, jobID: String, column: String, in db: Database) throws -> [UInt8]? {
        guard stored.starts(with: Self.blobPrefix) else { return Array(stored) }
        return try open(stored.dropFirst(Self.blobPrefix.count), tenant: tenant,
            context: Self.context(tenant: tenant, jobID: jobID, column: column), in: db)
    }

    private func open(_ combined: Data, tenant: String, context: Data, in db: Database) throws -> [UInt8]? {
        let key: SymmetricKey
        switch try tenantKey(tenant, in: db) {
        case .key(let found): key = found
        case .erased: return nil
        case .none:
            throw LedgerError(code: .encoding, message: "a sealed payload of tenant '\(tenant)' has no data key")
        }
        do {
            return Array(try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: key, authenticating: context))
        } catch {
            throw LedgerError(code: .encoding, message: "a sealed payload of tenant '\(tenant)' failed authentication (altered or moved)")
        }
    }
}
