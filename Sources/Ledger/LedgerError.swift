import GRDB

/// Why the ledger could not do what it was asked.
///
/// The SQLite result code is kept so that an operator can tell a full disk from a locked file
/// from a corrupt one, and so that callers can decide whether waiting helps.
public struct LedgerError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure. A struct rather than an enum so that new kinds can come without
    /// breaking exhaustive switches in callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case storage, schemaMismatch = "schema_mismatch", encoding, configuration
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// SQLite refused the operation (I/O error, full disk, busy or locked file, corruption).
        public static let storage = Code(.storage)
        /// The database file was not created by this version of the ledger (read-only open of
        /// a file whose migrations have not all run).
        public static let schemaMismatch = Code(.schemaMismatch)
        /// A value could not be turned into, or read back from, its stored JSON.
        public static let encoding = Code(.encoding)
        /// The ledger's keys do not fit its file (a master key that opens no tenant data key).
        /// Not a record's fault: the writer waits for an operator instead of setting records aside.
        public static let configuration = Code(.configuration)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    /// The primary SQLite result code (`SQLITE_FULL` = 13, `SQLITE_BUSY` = 5, …) when SQLite
    /// reported the failure.
    public var sqliteCode: Int32?
    /// Whether trying the same operation again later may succeed (busy, locked, full, I/O).
    public var isRetriable: Bool

    /// Whether the failure lies in the record being written rather than in the store: a
    /// constraint it violates, a value too big or of the wrong type, JSON that cannot be stored.
    /// Such a record fails the same way forever, so the writer sets it aside in
    /// `ledger_rejects`; any other failure (corruption, a read-only file, a missing table) is
    /// the store's, and the writer waits for an operator rather than skip records.
    public var isRecordFault: Bool {
        if code == .encoding { return true }
        guard code == .storage, let sqliteCode else { return false }
        return Self.recordFaultCodes.contains(sqliteCode)
    }

    public init(code: Code, message: String, sqliteCode: Int32? = nil, isRetriable: Bool = false) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
        self.isRetriable = isRetriable
    }

    public var description: String {
        if let sqliteCode { return "ledger \(code) error (SQLite \(sqliteCode)): \(message)" }
        return "ledger \(code) error: \(message)"
    }
}

// MARK: - From GRDB

extension LedgerError {
    /// Primary result codes that describe a passing condition rather than a broken file.
    private static let retriableCodes: Set<Int32> = [
        ResultCode.SQLITE_BUSY.rawValue, ResultCode.SQLITE_LOCKED.rawValue, ResultCode.SQLITE_FULL.rawValue,
        ResultCode.SQLITE_IOERR.rawValue, ResultCode.SQLITE_CANTOPEN.rawValue, ResultCode.SQLITE_INTERRUPT.rawValue,
    ]

    /// Primary result codes that blame the statement's values, not the file.
    private static let recordFaultCodes: Set<Int32> = [
        ResultCode.SQLITE_CONSTRAINT.rawValue, ResultCode.SQLITE_TOOBIG.rawValue,
        ResultCode.SQLITE_MISMATCH.rawValue, ResultCode.SQLITE_RANGE.rawValue,
    ]

    init(_ error: DatabaseError) {
        let code = error.resultCode.rawValue
        self.init(
            code: .storage, message: error.message ?? "\(error)", sqliteCode: code,
            isRetriable: Self.retriableCodes.contains(code)
        )
    }

    /// Runs `body`, turning GRDB's errors into `LedgerError` so that callers see one error type.
    static func mapping<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw LedgerError(error)
        }
    }

    /// The async form of ``mapping(_:)``.
    static func mapping<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError {
            throw LedgerError(error)
        }
    }
}
