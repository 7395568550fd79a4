import Foundation
import SluiceCore
import SluiceHTTP

@testable import Workers

/// Provider fixtures under `Fixtures/<provider>/`: documented request, response and error
/// bodies, read from beside this file.
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(path)))
    }

    static func json(_ path: String) throws -> JSONValue {
        try JSONValue.parse(try bytes(path))
    }

    /// A job carrying the canonical request at `path`.
    static func job(_ path: String, id: String = "job-1") throws -> JobEnvelope {
        try job(request: json(path), id: id)
    }

    static func job(request: JSONValue, id: String = "job-1") -> JobEnvelope {
        JobEnvelope(
            id: id, tenant: "acme", model: request["model"]?.stringValue ?? "m", priority: .p1, request: request,
            createdAtMs: 1_700_000_000_000, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    }

    static func response(_ status: Int, _ path: String, headers: [HTTPHeader] = []) throws -> HTTPClientResponse {
        HTTPClientResponse(status: status, headers: [HTTPHeader("content-type", "application/json")] + headers, body: try bytes(path))
    }

    static func deployment(kind: String, model: String, baseURL: String = "https://api.example.com/v1") -> ProviderDeployment {
        ProviderDeployment(provider: kind + "-main", kind: kind, baseURL: baseURL, apiKey: "sk-test", upstreamModel: model)
    }
}

/// The JSON body of a request, for comparison with a fixture.
func body(_ request: HTTPClientRequest) throws -> JSONValue {
    try JSONValue.parse(request.body)
}

/// Shorthand for outcomes in expectations.
extension ProviderOutcome {
    var successResponse: JSONValue? {
        if case .success(let response, _) = self { return response }
        return nil
    }
    var successUsage: Usage? {
        if case .success(_, let usage) = self { return usage }
        return nil
    }
    var permanentError: JobError? {
        if case .permanent(let error) = self { return error }
        return nil
    }
    var retriableError: (error: JobError, retryAfterMs: Int?)? {
        if case .retriable(let error, let ms) = self { return (error, ms) }
        return nil
    }
}
