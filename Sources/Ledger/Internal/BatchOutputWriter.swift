import Foundation
import GRDB
import SluiceCore

/// Writes a batch's output and error files, in OpenAI's batch output format, one result at a
/// time from a database cursor: a 50,000-line batch never sits in memory whole.
///
/// Output lines: `{"id","custom_id","response":{"status_code","request_id","body"},"error":null}`.
/// Error lines: a job the provider refused keeps its `response` (status and error body) with
/// `error: null`; a line that never ran (invalid, cancelled, expired) has `response: null` and
/// `error: {code, message}`. Invalid lines come first, from the part file the ingress wrote.
final class BatchOutputWriter: @unchecked Sendable {
    // @unchecked: used by one task at a time (write, then keep, then remove).
    let directory: String
    let batchID: String
    let outputID = StoredFile.newID()
    let errorID = StoredFile.newID()
    var outputBytes: Int64 = 0
    var errorBytes: Int64 = 0

    struct Counts {
        var outputLines = 0
        var errorLines = 0
        /// Lines whose job had no result at the end (cancelled or expired before it ran).
        var unfinished = 0
    }

    init(directory: String, batchID: String) throws {
        self.directory = directory
        self.batchID = batchID
    }

    /// Where the ingress puts the error lines of a batch's invalid input lines.
    static func invalidPartPath(directory: String, batchID: String) -> String {
        "\(directory)/\(batchID).invalid.jsonl"
    }

    private var outputPath: String { "\(directory)/\(outputID)" }
    private var errorPath: String { "\(directory)/\(errorID)" }

    /// - Parameter cipher: opens answers sealed at rest (``PayloadCipher``).
    func write(batch: StoredBatch, unfinishedCode: String, cipher: PayloadCipher?, in db: Database) throws -> Counts {
        var counts = Counts()
        let output = try BufferedFile(path: outputPath)
        let errors = try BufferedFile(path: errorPath)
        defer {
            output.close()
            errors.close()
        }
        if let data = FileManager.default.contents(atPath: Self.invalidPartPath(directory: directory, batchID: batchID)) {
            for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                try errors.append(Array(line))
                counts.errorLines += 1
            }
        }
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT br.custom_id AS custom_id, br.job_id AS job_id, r.status AS status, r.response AS response, r.error AS error
                FROM batch_requests br LEFT JOIN results r ON r.job_id = br.job_id
                WHERE br.batch_id = ? ORDER BY br.ordinal
                """,
            arguments: [batch.id])
        while let row = try rows.next() {
            let customID: String = row["custom_id"]
            let jobID: String = row["job_id"]
            let requestID = "batch_req_" + jobID.replacingOccurrences(of: "-", with: "")
            var line: [String: JSONValue] = ["id": .string(requestID), "custom_id": .string(customID)]
            let status: String? = row["status"]
            switch status.flatMap(JobStatus.init(rawValue:)) {
            case .succeeded?:
                let stored: String? = row["response"]
                let body = try Self.json(
                    try cipher.map { try $0.openText(stored, tenant: batch.tenant, jobID: jobID, column: "response", in: db) } ?? stored)
                line["response"] = ["status_code": 200, "request_id": .string(jobID), "body": body]
                line["error"] = .null
                try output.append(JSONValue.object(line).serialized())
                counts.outputLines += 1
                continue
            case .failed?:
                let error = try Self.json(row["error"])
                let message = error["message"]?.stringValue ?? "The request failed."
                let code = error["code"]?.stringValue ?? error["type"]?.stringValue ?? "request_failed"
                if let providerStatus = error["provider_status"]?.intValue, (100...599).contains(providerStatus) {
                    let inner: JSONValue = [
                        "message": .string(message), "type": .string(error["type"]?.stringValue ?? "provider_error"),
                        "code": .string(code), "param": .null,
                    ]
                    line["response"] = ["status_code": .int(providerStatus), "request_id": .string(jobID), "body": ["error": inner]]
                    line["error"] = .null
                } else {
                    line["response"] = .null
                    line["error"] = ["code": .string(code), "message": .string(message)]
                }
            case .cancelled?:
                line["response"] = .null
                line["error"] = ["code": "batch_cancelled", "message": "The batch was cancelled before this request ran."]
            default:
                counts.unfinished += 1
                line["response"] = .null
                line["error"] = [
                    "code": .string(unfinishedCode),
                    "message": .string(
                        unfinishedCode == "batch_expired"
                            ? "This request was not completed within the batch's completion window."
                            : "The batch was cancelled before this request ran."),
                ]
            }
            try errors.append(JSONValue.object(line).serialized())
            counts.errorLines += 1
        }
        try output.flush()
        try errors.flush()
        outputBytes = output.written
        errorBytes = errors.written
        return counts
    }

    private static func json(_ text: String?) throws -> JSONValue {
        guard let text else { return .null }
        return (try? JSONValue.parse(Array(text.utf8))) ?? .string(text)
    }

    func keepOutput(tenant: String, nowMs: Int64) -> StoredFile {
        StoredFile(
            id: outputID, tenant: tenant, filename: "\(batchID)_output.jsonl", purpose: "batch_output", bytes: outputBytes,
            createdAtMs: nowMs)
    }

    func keepErrors(tenant: String, nowMs: Int64) -> StoredFile {
        StoredFile(
            id: errorID, tenant: tenant, filename: "\(batchID)_error.jsonl", purpose: "batch_output", bytes: errorBytes,
            createdAtMs: nowMs)
    }

    /// Removes the empty files and the invalid-lines part (now copied into the error file).
    func removeLeftovers() {
        if outputBytes == 0 { try? FileManager.default.removeItem(atPath: outputPath) }
        if errorBytes == 0 { try? FileManager.default.removeItem(atPath: errorPath) }
        try? FileManager.default.removeItem(atPath: Self.invalidPartPath(directory: directory, batchID: batchID))
    }
}

/// A file written through a 64 KiB buffer, one JSON line at a time.
final class BufferedFile {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private(set) var written: Int64 = 0

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw LedgerError(code: .storage, message: "cannot create \(path)")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        buffer.reserveCapacity(1 << 16)
    }

    func append(_ line: [UInt8]) throws {
        buffer.append(contentsOf: line)
        buffer.append(UInt8(ascii: "\n"))
        written += Int64(line.count) + 1
        if buffer.count >= 1 << 16 { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() {
        try? handle.close()
    }
}
