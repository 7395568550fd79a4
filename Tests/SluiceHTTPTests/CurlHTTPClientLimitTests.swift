import Foundation
import SluiceHTTP
import Testing

/// The client against servers that misbehave on purpose: bodies larger than the limit,
/// endless headers, answers that never end.
@Suite("CurlHTTPClient limits", .timeLimit(.minutes(1)))
struct CurlHTTPClientLimitTests {
    private static let hundredMiB = 100 << 20
    private static let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 64 << 10)

    /// The body size of a GET, or its error. Never the response itself: should a limit fail,
    /// the test report must say "success(104857600)", not print 100 MiB of body.
    private static func fetch(_ client: CurlHTTPClient, _ url: String, timeoutMs: Int) async -> Result<Int, CurlError> {
        do {
            return .success(try await client.execute(.init(url: url, timeoutMs: timeoutMs)).body.count)
        } catch let error as CurlError {
            return .failure(error)
        } catch {
            return .failure(CurlError(code: -1, message: "not a CurlError: \(error)"))
        }
    }

    /// Streams up to 100 MiB of body, announced by `Content-Length` or chunked, and reports how
    /// much it managed to write before the client hung up.
    private static func streamingServer(announcesLength: Bool, written: AsyncStream<Int>.Continuation) throws -> RawHTTPServer {
        try RawHTTPServer { connection in
            guard connection.requestHead.hasPrefix("GET /big ") else {
                _ = connection.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                return
            }
            let framing = announcesLength ? "Content-Length: \(hundredMiB)" : "Transfer-Encoding: chunked"
            guard connection.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\(framing)\r\n\r\n") else { return }
            let framed = announcesLength ? chunk : Array("10000\r\n".utf8) + chunk + Array("\r\n".utf8)
            var total = 0
            while total < hundredMiB, connection.write(framed) { total += chunk.count }
            if !announcesLength { _ = connection.write("0\r\n\r\n") }
            written.yield(total)
        }
    }

    @Test("a 100 MiB body stops at the limit, long before its end, and the client stays usable", arguments: [false, true])
    func bodyOverTheLimitIsCutOffEarly(announcesLength: Bool) async throws {
        let (written, report) = AsyncStream.makeStream(of: Int.self)
        let server = try Self.streamingServer(announcesLength: announcesLength, written: report)
        defer { server.stop() }
        let client = try CurlHTTPClient(configuration: .init(maxResponseBytes: 1 << 20))
        defer { client.shutdown() }

        let outcome = await Self.fetch(client, server.baseURL + "/big", timeoutMs: 30_000)
        guard case .failure(let error) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(error.isResponseTooLarge, "\(error)")
        #expect(!error.isRetriable)
        #expect(error.message.contains("1048576"), "the error names the limit")

        var reports = written.makeAsyncIterator()
        let total = try #require(await reports.next())
        // Socket buffers hold a few MiB at most; the server must not get anywhere near 100 MiB.
        #expect(total < 32 << 20, "the server wrote \(total) bytes before the client hung up")

        let next = try await client.execute(.init(url: server.baseURL + "/small", timeoutMs: 10_000))
        #expect(next.status == 200 && next.bodyText == "ok")
    }

    @Test("a body of exactly the limit is read whole; one byte more is refused", arguments: [1_024, 1_025])
    func limitIsInclusive(size: Int) async throws {
        let server = try RawHTTPServer { connection in
            let body = String(repeating: "b", count: size)
            _ = connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(String(size, radix: 16))\r\n\(body)\r\n0\r\n\r\n")
            connection.waitForClose(timeoutMs: 5_000)
        }
        defer { server.stop() }
        let client = try CurlHTTPClient(configuration: .init(maxResponseBytes: 1_024))
        defer { client.shutdown() }
        let outcome = await Self.fetch(client, server.baseURL + "/exact", timeoutMs: 10_000)
        switch outcome {
        case .success(let count): #expect(size <= 1_024 && count == size, "\(outcome)")
        case .failure(let error): #expect(size > 1_024 && error.isResponseTooLarge, "\(outcome)")
        }
    }

    @Test("endless response headers are cut off at 256 KiB, as too large rather than a transient error")
    func endlessHeadersAreCutOff() async throws {
        let server = try RawHTTPServer { connection in
            guard connection.write("HTTP/1.1 200 OK\r\n") else { return }
            let line = "X-Pad: " + String(repeating: "p", count: 1_000) + "\r\n"
            for _ in 0..<100_000 {  // 100 MB of headers
                guard connection.write(line) else { return }
            }
        }
        defer { server.stop() }
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        let outcome = await Self.fetch(client, server.baseURL + "/headers", timeoutMs: 30_000)
        guard case .failure(let error) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(error.isResponseTooLarge, "\(error)")
        #expect(!error.isRetriable)
        #expect(error.message.contains("headers"))
    }

    /// How a server can fail to finish an answer.
    enum Stall: String, CaseIterable, Sendable {
        /// Accepts the request and never answers.
        case silence
        /// Sends the head, announces a body, never sends it.
        case headersThenSilence
        /// Sends the head, then one body byte every 50 ms, forever.
        case trickle
    }

    @Test("an answer that never ends fails at the request timeout, as a retriable timeout", arguments: Stall.allCases)
    func neverEndingAnswerTimesOut(stall: Stall) async throws {
        let server = try RawHTTPServer { connection in
            if stall != .silence {
                guard connection.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n") else { return }
            }
            if stall == .trickle {
                for _ in 0..<1_200 {
                    guard connection.write("x") else { return }
                    usleep(50_000)  // the server's own thread, not the cooperative pool
                }
            }
            connection.waitForClose(timeoutMs: 60_000)
        }
        defer { server.stop() }
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        let outcome = await Self.fetch(client, server.baseURL + "/stall", timeoutMs: 500)
        guard case .failure(let error) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(error.isTimeout, "\(error)")
        #expect(error.isRetriable)
    }
}
