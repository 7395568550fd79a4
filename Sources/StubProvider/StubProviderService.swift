import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SluiceCore

/// The fake LLM provider behind `sluice stub-provider`: OpenAI-, Anthropic- and Gemini-shaped
/// endpoints that answer with a deterministic summary, after a configurable latency, with
/// configurable rate-limit and server-error faults.
///
/// Endpoints:
/// - `POST /v1/chat/completions` (OpenAI Chat Completions)
/// - `POST /openai/deployments/{deployment}/chat/completions?api-version=…` (Azure OpenAI)
/// - `POST /v1/messages` (Anthropic Messages)
/// - `POST /v1beta/models/{model}:generateContent` (Gemini)
/// - `GET /healthz`, `HEAD /healthz` → 200
/// - `GET /stub/calls` → `{"total": N, "calls": {"<job id>": n, …}, "rate_limited": n,
///   "succeeded": n, "first_success_ms", "last_success_ms"}`, calls counted by the
///   `X-Sluice-Job-Id` header, so fault tests can count duplicate calls and 429s
/// - `POST /stub/faults` with any of `latency_ms`, `latency_jitter_ms`, `error_rate`,
///   `latency_distribution`, `error_status` (400…599), `malformed_rate`, `rate_limit_rate`,
///   `retry_after_seconds`, `hang_rate`, `fail_first_calls`, `rpm`, `tpm` (enforced limits, see
///   ``StubRateLimits``), `rate_limit_headers`
///   → the faults now in force
///
/// No authentication: any key is accepted, so it listens on loopback by default.
public struct StubProviderService: Service {
    private let configuration: StubProviderConfiguration
    private let logger: Logger
    private let onServerRunning: (@Sendable (Int) async -> Void)?

    /// - Parameters:
    ///   - onServerRunning: Called with the bound port once the server accepts connections;
    ///     with `port: 0` this is how a test learns which free port it got.
    public init(
        configuration: StubProviderConfiguration = .init(), logger: Logger,
        onServerRunning: (@Sendable (Int) async -> Void)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        self.onServerRunning = onServerRunning
    }

    /// Serves until graceful shutdown (or cancellation).
    public func run() async throws {
        let configuration = configuration
        let onServerRunning = onServerRunning
        let app = Application(
            router: makeRouter(),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "sluice-stub-provider"),
            onServerRunning: { channel in
                await onServerRunning?(channel.localAddress?.port ?? configuration.port)
            },
            logger: logger)
        try await app.run()
    }

    // MARK: - Routes

    private func makeRouter() -> Router<BasicRequestContext> {
        let state = StubState(faults: configuration.faults)
        let limits = StubRateLimits()
        let responder = StubResponder(state: state, limits: limits)
        let router = Router()
        router.get("/stub/calls") { _, _ in
            let (perJob, total) = state.calls
            var fields = limits.json
            fields["total"] = .int(Int64(total))
            fields["calls"] = .object(perJob.mapValues { .int(Int64($0)) })
            let body = JSONValue.object(fields)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body.serialized())))
        }
        router.post("/stub/faults") { request, _ in
            let bytes = try await request.body.collect(upTo: 64 * 1024)
            guard case .object(let fields)? = try? JSONValue.parse(bytes.readableBytesView) else { throw HTTPError(.badRequest, message: "a JSON object of faults") }
            var faults = state.faults
            try faults.update(from: fields)
            state.faults = faults
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: faults.json.serialized())))
        }
        router.get("/healthz") { _, _ in HTTPResponse.Status.ok }
        router.head("/healthz") { _, _ in HTTPResponse.Status.ok }
        router.post("/v1/chat/completions") { request, _ in
            try await responder.respond(OpenAIDialect(), to: request)
        }
        router.post("/openai/deployments/{deployment}/chat/completions") { request, context in
            // Azure refuses a call without its api-version; so does the stub, so adapters get it right.
            guard let version = request.uri.queryParameters.get("api-version"), !version.isEmpty else {
                let problem = StubRequestError(message: "Missing required query parameter 'api-version'.", param: "api-version")
                return Response(
                    status: .badRequest, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(bytes: OpenAIDialect().errorBody(.invalidRequest(problem)))))
            }
            return try await responder.respond(OpenAIDialect(), to: request, pathModel: context.parameters.get("deployment"))
        }
        router.post("/v1/messages") { request, _ in
            try await responder.respond(AnthropicDialect(), to: request)
        }
        // One path segment holds "{model}:generateContent"; the router cannot split it.
        router.post("/v1beta/models/{target}") { request, context in
            let target = context.parameters.get("target") ?? ""
            let suffix = ":generateContent"
            guard target.hasSuffix(suffix) else { throw HTTPError(.notFound) }
            return try await responder.respond(GeminiDialect(), to: request, pathModel: String(target.dropLast(suffix.count)))
        }
        return router
    }
}
