import Logging
import ServiceLifecycle
import SluiceCore
import SluiceHTTP
import StubProvider

// MARK: - Harness

/// Runs a stub provider on a free loopback port for the duration of `body`, then stops it.
public func withStubProvider<T>(
    _ configuration: StubProviderConfiguration = .init(), _ body: (_ baseURL: String) async throws -> T
) async throws -> T {
    var configuration = configuration
    configuration.host = "127.0.0.1"
    configuration.port = 0
    let (ports, announce) = AsyncStream.makeStream(of: Int.self)
    let service = StubProviderService(
        configuration: configuration, logger: Logger(label: "stub-provider-test") { _ in SwiftLogNoOpLogHandler() },
        onServerRunning: { port in
            announce.yield(port)
            announce.finish()
        })
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            defer { announce.finish() }  // a server that failed to start must not leave us waiting
            try await service.run()
        }
        defer { group.cancelAll() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw StubHarnessError.didNotStart }
        return try await body("http://127.0.0.1:\(port)")
    }
}

public enum StubHarnessError: Error { case didNotStart, notJSON(String) }

/// A JSON POST through `client`.
public func postJSON(
    _ client: CurlHTTPClient, _ url: String, _ json: String, headers: [HTTPHeader] = [], timeoutMs: Int = 10_000
) async throws -> HTTPClientResponse {
    try await client.execute(
        HTTPClientRequest(
            method: "POST", url: url, headers: [HTTPHeader("Content-Type", "application/json")] + headers,
            body: Array(json.utf8), timeoutMs: timeoutMs))
}

public func json(_ response: HTTPClientResponse) throws -> JSONValue {
    do {
        return try Wire.decode(JSONValue.self, from: response.body)
    } catch {
        throw StubHarnessError.notJSON(response.bodyText)
    }
}

