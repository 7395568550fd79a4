import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore

/// `/v1/messages/batches`: Anthropic's Message Batches API as a second front door on the same
/// machinery as ``BatchRoutes``.
///
/// A create turns each request's `params` (a Messages request) into a chat-completions line
/// of an input file of its own, then runs it as a batch; results are served as Anthropic
/// JSONL at `results_url`, converted line by line from the batch's output and error files.
/// Keys are accepted as `x-api-key` or `Authorization: Bearer` (see ``AuthMiddleware``).
struct MessageBatchRoutes: Sendable {
    let batches: BatchRoutes

    var service: BatchService { batches.service }
    var store: any BatchStore { batches.store }

    /// The collection, to be added at `/v1/messages/batches`; keys come as `x-api-key` (what
    /// the Anthropic SDKs send) or `Authorization: Bearer`.
    func collection() -> RouteCollection<SluiceRequestContext> {
        let routes = RouteCollection(context: SluiceRequestContext.self)
        routes.add(middleware: AuthMiddleware(keys: batches.keys, acceptsAPIKeyHeader: true))
        routes.post { request, context in try await create(request, context: context) }
        routes.get { request, context in try await list(request, context: context) }
        routes.get(":id") { request, context in try await retrieve(request, context: context) }
        routes.post(":id/cancel") { request, context in try await cancel(request, context: context) }
        routes.delete(":id") { _, context in try await delete(context) }
        routes.get(":id/results") { _, context in try await results(context) }
        return routes
    }

    /// Anthropic's custom_id pattern: `^[a-zA-Z0-9_-]{1,64}$`.
    static func isValidCustomID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 95 || byte == 45
        }
    }

    private func create(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try context.submitter(mayNot: "submit batches")
        let limit = service.configuration.maxFileBytes
        var request = request
        let body: JSONValue
        do {
            let buffer = try await request.collectBody(upTo: limit)
            body = try JSONValue.parse(Array(buffer.readableBytesView), rejectingDuplicateKeys: true)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.tooLarge(limit: limit)
        } catch {
            throw APIError.invalidRequest("The request body is not valid JSON: \(error).", code: "invalid_json")
        }
        guard case .array(let requests)? = body["requests"], !requests.isEmpty else {
            throw APIError.invalidRequest("'requests' is required: a non-empty array of {custom_id, params}.", param: "requests")
        }
        guard requests.count <= service.configuration.maxLines else {
            throw APIError.invalidRequest(
                "'requests' may hold at most \(service.configuration.maxLines) requests (batches.max_lines).", param: "requests")
        }
        let fileID = StoredFile.newID()
        let path = "\(service.directory)/\(fileID)"
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw APIError(status: .serviceUnavailable, type: "server_error", code: "storage_unavailable", message: "The batch cannot be stored now.")
        }
        var written: Int64 = 0
        do {
            defer { try? handle.close() }
            var seen = Set<String>()
            var buffer: [UInt8] = []
            for (index, item) in requests.enumerated() {
                guard case .string(let customID)? = item["custom_id"], Self.isValidCustomID(customID) else {
                    throw APIError.invalidRequest(
                        "'custom_id' must match ^[a-zA-Z0-9_-]{1,64}$.", param: "requests[\(index)].custom_id")
                }
                guard seen.insert(customID).inserted else {
                    throw APIError.invalidRequest("'custom_id' '\(customID)' is used twice.", param: "requests[\(index)].custom_id")
                }
                let chat: JSONValue
                do {
                    chat = try AnthropicBatchConversion.chatBody(item["params"] ?? .null, param: "requests[\(index)].params")
                } catch {
                    throw APIError.invalidRequest("'\(error.param)' \(error.message).", param: error.param)
                }
                let line: JSONValue = ["custom_id": .string(customID), "method": "POST", "url": "/v1/chat/completions", "body": chat]
                buffer.append(contentsOf: line.serialized())
                buffer.append(10)
                if buffer.count >= 1 << 16 {
                    try handle.write(contentsOf: buffer)
                    written += Int64(buffer.count)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            try handle.write(contentsOf: buffer)
            written += Int64(buffer.count)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        let file = StoredFile(
            id: fileID, tenant: principal.tenant, filename: "message_batch_input.jsonl", purpose: "batch", bytes: written,
            createdAtMs: service.clock.nowMs())
        try await batches.ledger { try await store.insertFile(file) }
        let batch = try await batches.start(kind: .anthropic, tenant: principal.tenant, inputFileID: fileID, metadata: nil, webhookURL: nil)
        var shown = batch
        shown.total = requests.count
        return IngressService.json(.ok, BatchViews.messageBatch(shown, baseURL: Self.baseURL(request)))
    }

    private func retrieve(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try context.caller()
        let batch = try await batches.requireBatch(context, tenant: principal.tenant, kind: .anthropic)
        return IngressService.json(.ok, BatchViews.messageBatch(batch, baseURL: Self.baseURL(request)))
    }

    private func list(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try context.caller()
        let q = request.uri.queryParameters
        let limit = try BatchRoutes.limit(q["limit"].map(String.init), range: 1...1_000, default: 20)
        if q["before_id"] != nil {
            throw APIError.invalidRequest("'before_id' paging is not supported; page with 'after_id'.", param: "before_id")
        }
        let found = try await batches.ledger {
            try await store.batches(tenant: principal.tenant, kind: .anthropic, after: q["after_id"].map(String.init), limit: limit + 1)
        }
        let page = Array(found.prefix(limit))
        let base = Self.baseURL(request)
        let body: JSONValue = [
            "data": .array(page.map { BatchViews.messageBatch($0, baseURL: base) }), "has_more": .bool(found.count > limit),
            "first_id": page.first.map { .string($0.id) } ?? .null, "last_id": page.last.map { .string($0.id) } ?? .null,
        ]
        return IngressService.json(.ok, body)
    }

    private func cancel(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try context.submitter(mayNot: "cancel batches")
        let batch = try await batches.requireBatch(context, tenant: principal.tenant, kind: .anthropic)
        let updated = try await batches.cancel(batch)
        return IngressService.json(.ok, BatchViews.messageBatch(updated, baseURL: Self.baseURL(request)))
    }

    private func delete(_ context: SluiceRequestContext) async throws -> Response {
        let principal = try context.submitter(mayNot: "delete batches")
        let batch = try await batches.requireBatch(context, tenant: principal.tenant, kind: .anthropic)
        guard batch.status.isTerminal else {
            throw APIError.invalidRequest("Batch \(batch.id) is still processing; cancel it and delete it once it has ended.", param: "id")
        }
        _ = try await batches.ledger { try await store.deleteBatch(id: batch.id, tenant: principal.tenant) }
        return IngressService.json(.ok, ["id": .string(batch.id), "type": "message_batch_deleted"] as JSONValue)
    }

    /// The batch's results as Anthropic JSONL: one compact object per line, LF only.
    private func results(_ context: SluiceRequestContext) async throws -> Response {
        let principal = try context.caller()
        let batch = try await batches.requireBatch(context, tenant: principal.tenant, kind: .anthropic)
        guard batch.status.isTerminal else {
            throw APIError.invalidRequest("Batch \(batch.id) has not ended yet; its results are not ready.", param: "id")
        }
        let paths = [batch.outputFileID, batch.errorFileID].compactMap { $0 }.map { "\(service.directory)/\($0)" }
        var headers = HTTPFields()
        headers[.contentType] = "application/binary"
        let body = ResponseBody { writer in
            var buffer: [UInt8] = []
            for path in paths where FileManager.default.fileExists(atPath: path) {
                let reader = try LineReader(path: path, maxLineBytes: Int.max / 2)
                while let line = try reader.next() {
                    guard case .line(let bytes) = line, !bytes.isEmpty, let value = try? JSONValue.parse(bytes) else { continue }
                    buffer.append(contentsOf: AnthropicBatchConversion.resultLine(value).serialized())
                    buffer.append(10)
                    if buffer.count >= 1 << 16 {
                        try await writer.write(ByteBuffer(bytes: buffer))
                        buffer.removeAll(keepingCapacity: true)
                    }
                }
            }
            if !buffer.isEmpty { try await writer.write(ByteBuffer(bytes: buffer)) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `http://<Host>` of the request, so `results_url` points back at this server.
    static func baseURL(_ request: Request) -> String {
        let host = request.head.authority ?? "127.0.0.1"
        return "http://\(host)"
    }
}
