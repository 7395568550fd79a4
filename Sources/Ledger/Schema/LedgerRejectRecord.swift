import Foundation
import GRDB

/// A row of `ledger_rejects`: a record set aside, in storage types.
struct LedgerRejectRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "ledger_rejects"

    /// Assigned by SQLite on insert; nil before.
    var seq: Int64?
    var topic: String
    var partition: Int64
    var offset: Int64
    var value: Data
    var valueBytes: Int64
    var error: String
    var atMs: Int64

    enum CodingKeys: String, CodingKey {
        case seq, topic, value, error
        case partition = "kafka_partition"
        case offset = "kafka_offset"
        case valueBytes = "value_bytes"
        case atMs = "at_ms"
    }

    init(_ reject: LedgerReject) {
        seq = nil
        topic = reject.topic
        partition = Int64(reject.partition)
        offset = reject.offset
        value = Data(reject.value)
        valueBytes = Int64(reject.valueBytes)
        error = reject.error
        atMs = reject.atMs
    }

    var reject: LedgerReject {
        LedgerReject(
            topic: topic, partition: Int32(clamping: partition), offset: offset, storedValue: Array(value),
            valueBytes: Int(clamping: valueBytes), error: error, atMs: atMs)
    }
}
