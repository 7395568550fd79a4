#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SluiceCore
import SluiceHTTP
import StubHarness
import StubProvider
import Synchronization
import Testing

@Suite("CurlHTTPClient", .timeLimit(.minutes(1)))
struct CurlHTTPClientTests {
    private static let chatBody = #"""
        {"model":"stub-1","messages":[
          {"role":"system","content":"You summarise."},
          {"role":"user","content":"Sluice queues jobs durably. Workers call providers!"}
        ]}
        """#

    @Test func chatCompletionReturnsFirstSentenceAndConsistentUsage() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider { base in
            let response = try await postJSON(client, base + "/v1/chat/completions", Self.chatBody)
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.headers.allSatisfy { $0.name == $0.name.lowercased() })
            let body = try json(response)
            #expect(body["object"] == "chat.completion")
            #expect(body["model"] == "stub-1")
            #expect(body["id"]?.stringValue?.hasPrefix("chatcmpl-") == true)
            #expect(body["created"]?.intValue != nil)
            let choice = body["choices"]?.arrayValue?.first
            #expect(choice?["index"]?.intValue == 0)
            #expect(choice?["finish_reason"] == "stop")
            #expect(choice?["message"]?["role"] == "assistant")
            #expect(choice?["message"]?["content"] == "Sluice queues jobs durably.")
            // "You summarise ." = 3, "Sluice queues jobs durably . Workers call providers !" = 9
            #expect(body["usage"]?["prompt_tokens"]?.intValue == 12)
            #expect(body["usage"]?["completion_tokens"]?.intValue == 5)
            #expect(body["usage"]?["total_tokens"]?.intValue == 17)
        }
    }

    @Test func fiveHundredConcurrentRequestsAllSucceed() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider(.init(latencyMs: 5, latencyJitterMs: 5)) { base in
            let url = base + "/v1/chat/completions"
            let good = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<500 {
                    group.addTask {
                        let body = #"{"model":"m","messages":[{"role":"user","content":"Request \#(i) is here. Tail."}]}"#
                        // Generous: the full suite runs beside this on two cores; the test is
                        // about every answer arriving intact, not about speed.
                        let response = try await postJSON(client, url, body, timeoutMs: 60_000)
                        let content = try json(response)["choices"]?.arrayValue?.first?["message"]?["content"]
                        return response.status == 200 && content == .string("Request \(i) is here.")
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(good == 500)
        }
    }

    @Test func serverErrorRateAnswers500WithOpenAIErrorBody() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider(.init(errorRate: 1)) { base in
            let response = try await postJSON(client, base + "/v1/chat/completions", Self.chatBody)
            #expect(response.status == 500)
            let error = try json(response)["error"]
            #expect(error?["type"] == "server_error")
            #expect(error?["message"]?.stringValue?.isEmpty == false)
            #expect(error?["param"] == .null)
            #expect(error?["code"] == .null)
        }
    }

    @Test func rateLimitRateAnswers429WithRetryAfter() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider(.init(rateLimitRate: 1, retryAfterSeconds: 7)) { base in
            let response = try await postJSON(client, base + "/v1/chat/completions", Self.chatBody)
            #expect(response.status == 429)
            #expect(response.header("Retry-After") == "7")
            let error = try json(response)["error"]
            #expect(error?["code"] == "rate_limit_exceeded")
            #expect(error?["type"] == "requests")
        }
    }

    @Test func malformedBodyAnswers400() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider { base in
            let response = try await postJSON(client, base + "/v1/chat/completions", #"{"model": "m", "messages": ["#)
            #expect(response.status == 400)
            let error = try json(response)["error"]
            #expect(error?["type"] == "invalid_request_error")
            #expect(error?["message"]?.stringValue?.isEmpty == false)
        }
    }

    @Test func closedPortFailsFastAsConnectFailure() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        let port = try Self.closedPort()
        let error = await #expect(throws: CurlError.self) {
            try await client.execute(.init(url: "http://127.0.0.1:\(port)/healthz", timeoutMs: 10_000))
        }
        // A refusal, not the request timeout running out (speed is for BENCHMARKS.md, not asserts).
        #expect(error?.isConnectFailure == true)
        #expect(error?.isRetriable == true)
        #expect(error?.isTimeout == false)
    }

    @Test func latencyAboveTheRequestTimeoutFailsAsTimeout() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider(.init(latencyMs: 10_000)) { base in
            let started = ContinuousClock.now
            let error = await #expect(throws: CurlError.self) {
                try await postJSON(client, base + "/v1/chat/completions", Self.chatBody, timeoutMs: 300)
            }
            #expect(error?.isTimeout == true)
            #expect(error?.isRetriable == true)
            #expect(error?.isConnectFailure == false)
            // Well before the 10 s answer: the timeout cut it (how fast is not asserted).
            #expect(ContinuousClock.now - started < .seconds(8))
        }
    }

    @Test func cancellingTheTaskAbortsTheTransfer() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider(.init(latencyMs: 10_000)) { base in
            let started = ContinuousClock.now
            let task = Task {
                try await postJSON(client, base + "/v1/chat/completions", Self.chatBody, timeoutMs: 20_000)
            }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            // Well before the 10 s answer: cancellation aborted the transfer.
            #expect(ContinuousClock.now - started < .seconds(8))
            // The client still works afterwards.
            let health = try await client.execute(.init(url: base + "/healthz"))
            #expect(health.status == 200)
        }
    }

    @Test func cancellingManyInFlightTransfersLeavesTheClientUsable() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider(.init(latencyMs: 2_000)) { base in
            let url = base + "/v1/chat/completions"
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        do {
                            _ = try await postJSON(client, url, Self.chatBody, timeoutMs: 20_000)
                            return false
                        } catch {
                            return error is CancellationError
                        }
                    }
                }
                try? await Task.sleep(for: .milliseconds(300))
                group.cancelAll()
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.count == 200)
            #expect(outcomes.allSatisfy { $0 })
            let health = try await client.execute(.init(url: base + "/healthz"))
            #expect(health.status == 200)
        }
    }

    @Test func alreadyCancelledTaskFailsWithoutSending() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.execute(.init(url: "http://127.0.0.1:1/never"))
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func shutdownFailsPendingAndLaterRequests() async throws {
        let client = try CurlHTTPClient()
        try await withStubProvider(.init(latencyMs: 10_000)) { base in
            let pending = Task {
                try await postJSON(client, base + "/v1/chat/completions", Self.chatBody, timeoutMs: 20_000)
            }
            try await Task.sleep(for: .milliseconds(200))
            client.shutdown()
            let error = await #expect(throws: CurlError.self) { try await pending.value }
            #expect(error == CurlError(code: 42, message: "the HTTP client was shut down"))
            await #expect(throws: CurlError.self) { try await client.execute(.init(url: base + "/healthz")) }
        }
    }

    @Test func methodsHeadersAndBinaryBodies() async throws {
        let client = try CurlHTTPClient()
        defer { client.shutdown() }
        try await withStubProvider { base in
            let head = try await client.execute(.init(method: "HEAD", url: base + "/healthz"))
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            let wrongMethod = try await client.execute(.init(method: "DELETE", url: base + "/v1/chat/completions"))
            #expect(wrongMethod.status == 405 || wrongMethod.status == 404)
            // A NUL byte must not truncate the body: the stub then sees invalid JSON, not an empty one.
            let binary = try await client.execute(
                .init(method: "POST", url: base + "/v1/chat/completions", body: Array(#"{"model":"m"}"#.utf8) + [0, 1, 2]))
            #expect(binary.status == 400)
            let error = await #expect(throws: CurlError.self) { try await client.execute(.init(url: "nope://x")) }
            #expect(error?.isRetriable == false)
        }
    }

    /// A loopback port with nothing listening: bind one, read its number, close it.
    private static func closedPort() throws -> Int {
        let (fd, port) = try RawHTTPServer.boundLoopbackSocket()
        close(fd)
        return port
    }
}
