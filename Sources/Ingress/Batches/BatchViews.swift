import Foundation
import SluiceCore

/// The wire shapes of files and batches: OpenAI's FileObject and Batch (Unix seconds), and
/// Anthropic's MessageBatch (RFC 3339 times).
enum BatchViews {
    static func seconds(_ ms: Int64?) -> JSONValue {
        guard let ms else { return .null }
        return .int(ms / 1_000)
    }

    static func file(_ file: StoredFile) -> JSONValue {
        [
            "id": .string(file.id), "object": "file", "bytes": .int(file.bytes), "created_at": seconds(file.createdAtMs),
            "expires_at": seconds(file.expiresAtMs), "filename": .string(file.filename), "purpose": .string(file.purpose),
            "status": "processed", "status_details": .null,
        ]
    }

    static func batch(_ batch: StoredBatch) -> JSONValue {
        var b: [String: JSONValue] = [
            "id": .string(batch.id), "object": "batch", "endpoint": .string(batch.endpoint),
            "input_file_id": .string(batch.inputFileID), "completion_window": .string(batch.completionWindow),
            "status": .string(batch.status.rawValue), "created_at": seconds(batch.createdAtMs),
            "in_progress_at": seconds(batch.inProgressAtMs), "expires_at": seconds(batch.expiresAtMs),
            "finalizing_at": seconds(batch.finalizingAtMs), "completed_at": seconds(batch.completedAtMs),
            "failed_at": seconds(batch.failedAtMs), "expired_at": seconds(batch.expiredAtMs),
            "cancelling_at": seconds(batch.cancellingAtMs), "cancelled_at": seconds(batch.cancelledAtMs),
            "output_file_id": batch.outputFileID.map(JSONValue.string) ?? .null,
            "error_file_id": batch.errorFileID.map(JSONValue.string) ?? .null,
            "errors": batch.errors ?? .null,
            "request_counts": [
                "total": .int(Int64(batch.total)), "completed": .int(Int64(batch.completed)), "failed": .int(Int64(batch.failed)),
            ],
            "metadata": batch.metadata ?? .null,
            "model": batch.model.map(JSONValue.string) ?? .null,
        ]
        let total = batch.inputTokens.addingReportingOverflow(batch.outputTokens).partialValue
        b["usage"] = [
            "input_tokens": .int(batch.inputTokens), "input_tokens_details": ["cached_tokens": 0],
            "output_tokens": .int(batch.outputTokens), "output_tokens_details": ["reasoning_tokens": 0],
            "total_tokens": .int(total),
        ]
        return .object(b)
    }

    /// `{object:"list", data, first_id, last_id, has_more}`.
    static func list(_ items: [JSONValue], ids: [String], hasMore: Bool) -> JSONValue {
        [
            "object": "list", "data": .array(items), "first_id": ids.first.map(JSONValue.string) ?? .null,
            "last_id": ids.last.map(JSONValue.string) ?? .null, "has_more": .bool(hasMore),
        ]
    }

    // MARK: - Anthropic

    static func rfc3339(_ ms: Int64?) -> JSONValue {
        guard let ms else { return .null }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return .string(formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1_000)))
    }

    static func messageBatch(_ batch: StoredBatch, baseURL: String) -> JSONValue {
        let ended = batch.status.isTerminal
        let processingStatus: String
        switch batch.status {
        case .cancelling: processingStatus = "canceling"
        case _ where ended: processingStatus = "ended"
        default: processingStatus = "in_progress"
        }
        // Anthropic reports every request as processing until the whole batch has ended.
        let counts: JSONValue
        if ended {
            counts = [
                "processing": 0, "succeeded": .int(Int64(batch.completed)), "errored": .int(Int64(batch.failed)),
                "canceled": .int(Int64(batch.cancelledCount)), "expired": .int(Int64(batch.expiredCount)),
            ]
        } else {
            counts = ["processing": .int(Int64(batch.total)), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0]
        }
        let endedAt = batch.completedAtMs ?? batch.cancelledAtMs ?? batch.expiredAtMs ?? batch.failedAtMs
        return [
            "id": .string(batch.id), "type": "message_batch", "processing_status": .string(processingStatus),
            "request_counts": counts, "created_at": rfc3339(batch.createdAtMs), "expires_at": rfc3339(batch.expiresAtMs),
            "ended_at": ended ? rfc3339(endedAt) : .null, "cancel_initiated_at": rfc3339(batch.cancellingAtMs),
            "archived_at": .null,
            "results_url": ended ? .string("\(baseURL)/v1/messages/batches/\(batch.id)/results") : .null,
        ]
    }
}
