import SluiceCore

/// Checks one line of a batch input file: `{"custom_id", "method": "POST", "url", "body"}`,
/// where `url` is the batch's endpoint and `body` a chat-completions request that passes the
/// same validation as `POST /v1/jobs`.
///
/// A bad line is reported in the batch's error file with the reason; it does not fail the batch.
struct BatchLineValidator: Sendable {
    let requests: JobRequestValidator
    let endpoint: String
    /// Longest line; `ingress.max_body_bytes`, like the body of one job.
    let maxLineBytes: Int

    /// Longest `custom_id`, in UTF-8 bytes.
    static let maxCustomIDBytes = 512

    enum Outcome {
        case valid(customID: String, request: JobRequest)
        case invalid(customID: String?, code: String, message: String)
    }

    func validate(_ line: [UInt8], nowMs: Int64) -> Outcome {
        let value: JSONValue
        do {
            value = try JSONValue.parse(line, rejectingDuplicateKeys: true)
        } catch {
            return .invalid(customID: nil, code: "invalid_json_line", message: "The line is not valid JSON: \(error).")
        }
        guard case .object(let fields) = value else {
            return .invalid(customID: nil, code: "invalid_json_line", message: "The line must be a JSON object, not \(value.typeName).")
        }
        guard case .string(let customID)? = fields["custom_id"], !customID.isEmpty else {
            return .invalid(customID: nil, code: "missing_custom_id", message: "'custom_id' is required: a non-empty string.")
        }
        guard customID.utf8.count <= Self.maxCustomIDBytes else {
            return .invalid(customID: nil, code: "invalid_custom_id", message: "'custom_id' may be at most \(Self.maxCustomIDBytes) bytes.")
        }
        if let method = fields["method"], method != .string("POST") {
            return .invalid(customID: customID, code: "invalid_method", message: "'method' must be \"POST\".")
        }
        guard case .string(let url)? = fields["url"] else {
            return .invalid(customID: customID, code: "missing_url", message: "'url' is required and must be \"\(endpoint)\".")
        }
        guard url == endpoint else {
            return .invalid(
                customID: customID, code: "url_mismatch", message: "'url' is \"\(url)\" but the batch's endpoint is \"\(endpoint)\".")
        }
        guard let body = fields["body"], case .object = body else {
            return .invalid(customID: customID, code: "invalid_body", message: "'body' is required: a chat-completions request object.")
        }
        do {
            var request = try requests.validate(body.serialized(), nowMs: nowMs)
            request.priority = .p2
            return .valid(customID: customID, request: request)
        } catch {
            let at = error.param.map { " (body.\($0))" } ?? ""
            return .invalid(customID: customID, code: error.code, message: error.message + at)
        }
    }
}
