import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SluiceCore

/// `/v1/files` and `/v1/batches`: OpenAI's Files and Batch APIs, wire-compatible so that the
/// official SDKs work with `base_url` pointed at Sluice.
///
/// Uploads stream to disk under the files directory as they arrive; creating a batch answers
/// `validating` at once and leaves the reading and queueing of its lines to ``BatchService``.
/// Another tenant's file or batch is 404, like a missing one.
struct BatchRoutes: Sendable {
    let service: BatchService
    let keys: KeyRing
    let validator: JobRequestValidator
    let maxLineBytes: Int
    let retryAfterSeconds: Int
    let logger: Logger

    var store: any BatchStore { service.store }
    var configuration: BatchesConfiguration { service.configuration }

    /// Registers the OpenAI routes at `/v1` and the Anthropic Message Batches routes at
    /// `/v1/messages/batches`, each group behind its own authentication.
    static func registerAll(
        _ service: BatchService, keys: KeyRing, validator: JobRequestValidator, configuration: IngressConfiguration, logger: Logger,
        on router: Router<SluiceRequestContext>
    ) {
        let routes = BatchRoutes(
            service: service, keys: keys, validator: validator, maxLineBytes: configuration.maxBodyBytes,
            retryAfterSeconds: configuration.retryAfterSeconds, logger: logger)
        router.addRoutes(routes.collection(), atPath: "/v1")
        router.addRoutes(MessageBatchRoutes(batches: routes).collection(), atPath: "/v1/messages/batches")
        service.setLineValidator(BatchLineValidator(requests: validator, endpoint: "/v1/chat/completions", maxLineBytes: configuration.maxBodyBytes))
    }

    /// The collection, to be added at `/v1`: files and batches, any key of the tenant.
    func collection() -> RouteCollection<SluiceRequestContext> {
        let routes = RouteCollection(context: SluiceRequestContext.self)
        routes.add(middleware: AuthMiddleware(keys: keys))
        routes.post("files") { request, context in try await upload(request, context: context) }
        routes.get("files") { request, context in try await listFiles(request, context: context) }
        routes.get("files/:id") { _, context in try await retrieveFile(context) }
        routes.get("files/:id/content") { _, context in try await content(context) }
        routes.delete("files/:id") { _, context in try await deleteFile(context) }
        routes.post("batches") { request, context in try await create(request, context: context) }
        routes.get("batches") { request, context in try await listBatches(request, context: context) }
        routes.get("batches/:id") { _, context in try await retrieveBatch(context) }
        routes.post("batches/:id/cancel") { _, context in try await cancel(context) }
        return routes
    }

    // MARK: - Files

    private func upload(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try context.submitter(mayNot: "upload files")
        guard let contentType = request.headers[.contentType], let boundary = MultipartParser.boundary(contentType: contentType) else {
            throw APIError.invalidRequest("Upload files as multipart/form-data with a boundary.", param: "Content-Type")
        }
        let limit = configuration.maxFileBytes
        if let length = request.headers[.contentLength].flatMap(Int64.init), length > Int64(limit) + 65_536 {
            throw APIError.tooLarge(limit: limit)
        }
        let id = StoredFile.newID()
        let partPath = "\(service.directory)/\(id).part"
        let upload = try UploadSink(path: partPath, limit: limit)
        var fields: [String: String] = [:]
        var filename: String?
        do {
            var parser = MultipartParser(boundary: boundary)
            var current: (name: String, isFile: Bool)?
            var text: [UInt8] = []
            var sawFile = false
            for try await buffer in request.body {
                let events: [MultipartParser.Event]
                do {
                    events = try parser.feed(buffer.readableBytesView)
                } catch {
                    throw APIError.invalidRequest("The multipart body is malformed: \(error).", code: "invalid_multipart")
                }
                for event in events {
                    switch event {
                    case .partStart(let headers):
                        let parameters = MultipartParser.dispositionParameters(headers["content-disposition"] ?? "")
                        let name = parameters["name"] ?? ""
                        let isFile = name == "file" && !sawFile
                        if isFile {
                            sawFile = true
                            filename = parameters["filename"] ?? "upload"
                        }
                        current = (name, isFile)
                        text = []
                    case .body(let bytes):
                        guard let part = current else { continue }
                        if part.isFile {
                            try upload.write(bytes)
                        } else if text.count + bytes.count <= 4_096 {
                            text.append(contentsOf: bytes)
                        } else {
                            throw APIError.invalidRequest("The form field '\(part.name)' is too long.", param: part.name)
                        }
                    case .partEnd:
                        if let part = current, !part.isFile { fields[part.name] = String(decoding: text, as: UTF8.self) }
                        current = nil
                    }
                }
            }
            do {
                try parser.finish()
            } catch {
                throw APIError.invalidRequest("The multipart body is malformed: \(error).", code: "invalid_multipart")
            }
            try upload.close()
            guard sawFile else {
                throw APIError.invalidRequest("'file' is required: the JSONL file to upload.", param: "file", code: "missing_required_parameter")
            }
            guard let purpose = fields["purpose"] else {
                throw APIError.invalidRequest("'purpose' is required; Sluice stores files of purpose 'batch'.", param: "purpose", code: "missing_required_parameter")
            }
            guard purpose == "batch" else {
                throw APIError.invalidRequest("'purpose' must be 'batch'; Sluice stores batch input files only.", param: "purpose")
            }
            try FileManager.default.moveItem(atPath: partPath, toPath: "\(service.directory)/\(id)")
        } catch {
            upload.discard()
            if let error = error as? UploadSink.TooLarge { throw APIError.tooLarge(limit: error.limit) }
            throw error
        }
        let file = StoredFile(
            id: id, tenant: principal.tenant, filename: Self.clip(filename ?? "upload", to: 255), purpose: "batch",
            bytes: upload.written, createdAtMs: service.clock.nowMs())
        try await ledger { try await store.insertFile(file) }
        return IngressService.json(.ok, BatchViews.file(file))
    }

    private func listFiles(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try context.caller()
        let q = request.uri.queryParameters
        let limit = try Self.limit(q["limit"].map(String.init), range: 1...10_000, default: 10_000)
        let ascending: Bool
        switch q["order"].map(String.init) {
        case nil, "desc": ascending = false
        case "asc": ascending = true
        default: throw APIError.invalidRequest("'order' must be 'asc' or 'desc'.", param: "order")
        }
        let files = try await ledger {
            try await store.files(
                tenant: principal.tenant, purpose: q["purpose"].map(String.init), after: q["after"].map(String.init), limit: limit + 1,
                ascending: ascending)
        }
        let page = Array(files.prefix(limit))
        return IngressService.json(.ok, BatchViews.list(page.map(BatchViews.file), ids: page.map(\.id), hasMore: files.count > limit))
    }

    private func retrieveFile(_ context: SluiceRequestContext) async throws -> Response {
        let principal = try context.caller()
        let file = try await requireFile(context, tenant: principal.tenant)
        return IngressService.json(.ok, BatchViews.file(file))
    }

    private func content(_ context: SluiceRequestContext) async throws -> Response {
        let principal = try context.caller()
        let file = try await requireFile(context, tenant: principal.tenant)
        return try Self.stream(path: "\(service.directory)/\(file.id)", length: file.bytes, contentType: "application/jsonl")
    }

    private func deleteFile(_ context: SluiceRequestContext) async throws -> Response {
        let principal = try context.submitter(mayNot: "delete files")
        let file = try await requireFile(context, tenant: principal.tenant)
        _ = try await ledger { try await store.deleteFile(id: file.id, tenant: principal.tenant) }
        try? FileManager.default.removeItem(atPath: "\(service.directory)/\(file.id)")
        return IngressService.json(.ok, ["id": .string(file.id), "object": "file", "deleted": true] as JSONValue)
    }

    private func requireFile(_ context: SluiceRequestContext, tenant: String) async throws -> StoredFile {
        let id = context.parameters.get("id") ?? ""
        guard let file = try await ledger({ try await store.file(id: id, tenant: tenant) }) else {
            throw APIError.notFound("file", id: id)
        }
        return file
    }

    // MARK: - Batches

    private func create(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try context.submitter(mayNot: "submit batches")
        var request = request
        let body: JSONValue
        do {
            let buffer = try await request.collectBody(upTo: 256 * 1024)
            body = try JSONValue.parse(Array(buffer.readableBytesView), rejectingDuplicateKeys: true)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.tooLarge(limit: 256 * 1024)
        } catch {
            throw APIError.invalidRequest("The request body is not valid JSON: \(error).", code: "invalid_json")
        }
        guard case .object(let fields) = body else {
            throw APIError.invalidRequest("The request body must be a JSON object.", code: "invalid_json")
        }
        guard case .string(let inputFileID)? = fields["input_file_id"] else {
            throw APIError.invalidRequest("'input_file_id' is required: the id of an uploaded file.", param: "input_file_id", code: "missing_required_parameter")
        }
        guard case .string(let endpoint)? = fields["endpoint"] else {
            throw APIError.invalidRequest("'endpoint' is required: \"/v1/chat/completions\".", param: "endpoint", code: "missing_required_parameter")
        }
        guard endpoint == "/v1/chat/completions" else {
            throw APIError.invalidRequest("'endpoint' must be \"/v1/chat/completions\"; Sluice batches chat completions only.", param: "endpoint")
        }
        guard fields["completion_window"] == .string("24h") else {
            throw APIError.invalidRequest("'completion_window' must be \"24h\".", param: "completion_window")
        }
        let metadata = try Self.metadata(fields["metadata"])
        let webhookURL = try Self.webhookURL(fields["webhook"])
        guard let file = try await ledger({ try await store.file(id: inputFileID, tenant: principal.tenant) }), file.purpose == "batch" else {
            throw APIError.invalidRequest("No batch input file '\(inputFileID)' exists.", param: "input_file_id", code: "file_not_found")
        }
        let batch = try await start(
            kind: .openai, tenant: principal.tenant, inputFileID: file.id, metadata: metadata, webhookURL: webhookURL)
        return IngressService.json(.ok, BatchViews.batch(batch))
    }

    /// Stores a new batch and hands its input to the ingest.
    func start(kind: StoredBatch.Kind, tenant: String, inputFileID: String, metadata: JSONValue?, webhookURL: String?) async throws -> StoredBatch {
        let nowMs = service.clock.nowMs()
        let batch = StoredBatch(
            id: StoredBatch.newID(kind: kind), tenant: tenant, kind: kind, endpoint: "/v1/chat/completions", inputFileID: inputFileID,
            completionWindow: "24h", metadata: metadata, webhookURL: webhookURL, createdAtMs: nowMs,
            expiresAtMs: nowMs + 86_400_000)
        try await ledger { try await store.insertBatch(batch) }
        service.ingest(
            batch, inputPath: "\(service.directory)/\(inputFileID)",
            validator: BatchLineValidator(requests: validator, endpoint: batch.endpoint, maxLineBytes: maxLineBytes))
        return batch
    }

    private func retrieveBatch(_ context: SluiceRequestContext) async throws -> Response {
        let principal = try context.caller()
        return IngressService.json(.ok, BatchViews.batch(try await requireBatch(context, tenant: principal.tenant, kind: .openai)))
    }

    private func listBatches(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let principal = try context.caller()
        let q = request.uri.queryParameters
        let limit = try Self.limit(q["limit"].map(String.init), range: 1...100, default: 20)
        let batches = try await ledger {
            try await store.batches(tenant: principal.tenant, kind: .openai, after: q["after"].map(String.init), limit: limit + 1)
        }
        let page = Array(batches.prefix(limit))
        return IngressService.json(.ok, BatchViews.list(page.map(BatchViews.batch), ids: page.map(\.id), hasMore: batches.count > limit))
    }

    private func cancel(_ context: SluiceRequestContext) async throws -> Response {
        let principal = try context.submitter(mayNot: "cancel batches")
        let batch = try await requireBatch(context, tenant: principal.tenant, kind: .openai)
        let updated = try await cancel(batch)
        return IngressService.json(.ok, BatchViews.batch(updated))
    }

    /// Moves the batch to `cancelling` and starts cancelling its jobs; an ended batch is 409.
    func cancel(_ batch: StoredBatch) async throws -> StoredBatch {
        guard !batch.status.isTerminal else {
            throw APIError(
                status: .conflict, type: "invalid_request_error", code: "batch_ended",
                message: "Batch \(batch.id) has already ended (\(batch.status.rawValue)).")
        }
        let updated = try await ledger { try await store.requestCancel(batchID: batch.id, tenant: batch.tenant, nowMs: service.clock.nowMs()) }
        if updated?.status == .cancelling { service.cancel(batchID: batch.id, tenant: batch.tenant) }
        return updated ?? batch
    }

    func requireBatch(_ context: SluiceRequestContext, tenant: String, kind: StoredBatch.Kind) async throws -> StoredBatch {
        let id = context.parameters.get("id") ?? ""
        guard let batch = try await ledger({ try await store.batch(id: id, tenant: tenant) }), batch.kind == kind else {
            throw APIError.notFound("batch", id: id)
        }
        return batch
    }

    // MARK: - Helpers

    /// Runs a store call, answering 503 when the ledger cannot be read or written.
    func ledger<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as APIError {
            throw error
        } catch {
            logger.warning("batch store unavailable; answering 503", metadata: ["error": "\(error)"])
            throw APIError.ledgerUnavailable(retryAfter: retryAfterSeconds)
        }
    }

    static func limit(_ text: String?, range: ClosedRange<Int>, default value: Int) throws -> Int {
        guard let text else { return value }
        guard let limit = Int(text), range.contains(limit) else {
            throw APIError.invalidRequest("'limit' must be an integer from \(range.lowerBound) to \(range.upperBound).", param: "limit")
        }
        return limit
    }

    /// OpenAI's metadata limits: at most 16 string pairs, keys up to 64 and values up to 512
    /// characters.
    static func metadata(_ value: JSONValue?) throws -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        guard case .object(let pairs) = value else {
            throw APIError.invalidRequest("'metadata' must be an object of string values.", param: "metadata")
        }
        guard pairs.count <= 16 else {
            throw APIError.invalidRequest("'metadata' may have at most 16 keys, got \(pairs.count).", param: "metadata")
        }
        for (key, entry) in pairs {
            guard key.count <= 64 else {
                throw APIError.invalidRequest("'metadata' keys may be at most 64 characters.", param: "metadata.\(clip(key, to: 64))")
            }
            guard case .string(let text) = entry else {
                throw APIError.invalidRequest("'metadata' values must be strings.", param: "metadata.\(key)")
            }
            guard text.count <= 512 else {
                throw APIError.invalidRequest("'metadata' values may be at most 512 characters.", param: "metadata.\(key)")
            }
        }
        return value
    }

    /// Sluice's extension: `webhook: {url}` for the batch's terminal event.
    static func webhookURL(_ value: JSONValue?) throws -> String? {
        guard let value, !value.isNull else { return nil }
        guard case .string(let url)? = value["url"], url.hasPrefix("http://") || url.hasPrefix("https://"), url.utf8.count <= 2_048 else {
            throw APIError.invalidRequest("'webhook.url' must be an http(s) URL of at most 2048 bytes.", param: "webhook.url")
        }
        return url
    }

    static func clip(_ text: String, to count: Int) -> String {
        text.count <= count ? text : String(text.prefix(count))
    }

    /// The file's bytes as the response body, read in 64 KiB chunks as the client takes them.
    static func stream(path: String, length: Int64, contentType: String) throws -> Response {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw APIError.notFound("file content", id: (path as NSString).lastPathComponent)
        }
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.contentLength] = String(length)
        let body = ResponseBody { writer in
            defer { try? handle.close() }
            while true {
                let chunk = try handle.read(upToCount: 1 << 16) ?? Data()
                if chunk.isEmpty { break }
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}

/// Where an upload's file part goes: a file of its own, capped at the configured size.
final class UploadSink: @unchecked Sendable {
    // @unchecked: used by one request handler at a time.
    struct TooLarge: Error { var limit: Int }

    private let path: String
    private let handle: FileHandle
    private let limit: Int
    private(set) var written: Int64 = 0

    init(path: String, limit: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw APIError(status: .serviceUnavailable, type: "server_error", code: "storage_unavailable", message: "The upload cannot be stored now.")
        }
        self.path = path
        self.handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        self.limit = limit
    }

    func write(_ bytes: [UInt8]) throws {
        written += Int64(bytes.count)
        guard written <= Int64(limit) else { throw TooLarge(limit: limit) }
        try handle.write(contentsOf: bytes)
    }

    func close() throws {
        try handle.close()
    }

    func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}
