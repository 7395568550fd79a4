import Logging
import ServiceLifecycle
import SluiceCore
import SluiceHTTP
import StubProvider

// MARK: - Harness

/// Runs a stub provider on a free loopback port for the duration of `body`, then stops it.
///
/// Stopped by graceful shutdown, not by cancelling its task: cancelling a Hummingbird server
/// while an accepted connection is still queued deinits that connection's writer unfinished,
/// which SwiftNIO treats as a fatal error (apple/swift-nio#3481); it took down a whole test run.
public func withStubProvider<T: Sendable>(
    _ configuration: StubProviderConfiguration = .init(), _ body: (_ baseURL: String) async throws -> T
) async throws -> T {
    var configuration = configuration
    configuration.host = "127.0.0.1"
    configuration.port = 0
    let (ports, announce) = AsyncStream.makeStream(of: Int.self)
    let logger = Logger(label: "stub-provider-test") { _ in SwiftLogNoOpLogHandler() }
    let service = StubProviderService(
        configuration: configuration, logger: logger,
        onServerRunning: { port in
            announce.yield(port)
            announce.finish()
        })
    let services = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            defer { announce.finish() }  // a server that failed to start must not leave us waiting
            try await services.run()
        }
        let result: Result<T, any Error>
        var iterator = ports.makeAsyncIterator()
        if let port = await iterator.next() {
            do { result = .success(try await body("http://127.0.0.1:\(port)")) } catch { result = .failure(error) }
        } else {
            result = .failure(StubHarnessError.didNotStart)
        }
        await services.triggerGracefulShutdown()
        // The body's own failure is the one worth reporting, not a stop that followed it.
        if case .failure = result { try? await group.waitForAll() } else { try await group.waitForAll() }
        return try result.get()
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

