/// An uploaded or generated file as the ledger keeps it: its bytes live on disk under the
/// files directory, named by ``id``.
public struct StoredFile: Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var filename: String
    /// `batch` for uploads; `batch_output` for files Sluice writes.
    public var purpose: String
    public var bytes: Int64
    public var createdAtMs: Int64
    public var expiresAtMs: Int64?

    public init(id: String, tenant: String, filename: String, purpose: String, bytes: Int64, createdAtMs: Int64, expiresAtMs: Int64? = nil) {
        self.id = id
        self.tenant = tenant
        self.filename = filename
        self.purpose = purpose
        self.bytes = bytes
        self.createdAtMs = createdAtMs
        self.expiresAtMs = expiresAtMs
    }

    /// A new file id: `file-` and 24 hex digits of a UUIDv7 (time-ordered, so lists sort by it).
    public static func newID() -> String {
        "file-" + String(UUIDv7.generate().filter { $0 != "-" })
    }
}
