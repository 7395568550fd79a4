import Foundation

/// An async HTTP/1.1 client on libcurl's multi interface, for provider calls and load tests.
///
/// One dedicated thread runs every transfer of the client in a `curl_multi_poll` loop, so
/// thousands of concurrent requests cost sockets, not threads, and no blocking call ever runs
/// on the cooperative pool. Connections are kept alive and reused across requests to the same
/// host. Non-2xx answers are returned, not thrown: only transport failures throw.
///
/// ```swift
/// let client = try CurlHTTPClient()
/// defer { client.shutdown() }
/// let response = try await client.execute(.init(method: "POST", url: url, headers: headers, body: body))
/// ```
///
/// - Important: Call ``shutdown()`` when done (or drop the last reference): the thread and
///   the cached connections live until then.
public final class CurlHTTPClient: Sendable {
    private let queue: CurlTransferQueue

    /// Starts the client's thread.
    ///
    /// - Throws: ``CurlError`` when libcurl cannot be initialised.
    public init(configuration: CurlHTTPClientConfiguration = .init()) throws {
        let multi = try CurlMulti(configuration: configuration)
        let queue = CurlTransferQueue(multi: multi)
        self.queue = queue
        // The thread holds the queue and the multi handle, never `self`, so that dropping the
        // last reference to the client runs `deinit`, which stops the thread.
        let thread = Thread {
            CurlTransferLoop(queue: queue, multi: multi, configuration: configuration).run()
        }
        thread.name = "sluice-curl"
        thread.start()
    }

    deinit {
        queue.shutdown()
    }

    // MARK: - Requests

    /// Sends `request` and returns the server's answer, whatever its status.
    ///
    /// Cancelling the calling task aborts the transfer (its connection is closed, not reused)
    /// and throws `CancellationError`.
    ///
    /// - Throws: ``CurlError`` when no complete answer arrived (see ``CurlError/isRetriable``),
    ///   `CancellationError` when the task was cancelled.
    public func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        let queue = queue
        let id = queue.allocate()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                queue.submit(id: id, request: request, continuation: continuation)
            }
        } onCancel: {
            queue.cancel(id)
        }
    }

    // MARK: - Lifecycle

    /// Fails every pending request with ``CurlError`` (code 42, "shut down"), closes the
    /// connections and ends the thread. Returns without waiting; later requests fail at once.
    public func shutdown() {
        queue.shutdown()
    }
}
