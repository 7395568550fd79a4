import SluiceCore

/// JSON columns: values kept as text so that SQLite's JSON functions and an auditor's `sqlite3`
/// can read them, written with the same `Wire` setup as the envelopes they came from.
enum StoredJSON {
    static func text<T: JSONRepresentable>(_ value: T?) -> String? {
        guard let value else { return nil }
        return String(decoding: Wire.encode(value), as: UTF8.self)
    }

    static func value<T: JSONRepresentable>(_ type: T.Type, from text: String?) throws -> T? {
        guard let text else { return nil }
        do {
            return try Wire.decode(type, from: Array(text.utf8))
        } catch {
            throw LedgerError(code: .encoding, message: "stored JSON is not a valid \(T.self): \(error)")
        }
    }
}
