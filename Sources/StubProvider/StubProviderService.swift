import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The fake LLM provider behind `sluice stub-provider`: OpenAI-, Anthropic- and Gemini-shaped
/// endpoints that answer with a deterministic summary, after a configurable latency, with
/// configurable rate-limit and server-error faults.
///
/// Endpoints:
/// - `POST /v1/chat/completions` (OpenAI Chat Completions)
/// - `POST /v1/messages` (Anthropic Messages)
/// - `POST /v1beta/models/{model}:generateContent` (Gemini)
/// - `GET /healthz`, `HEAD /healthz` → 200
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
        let responder = StubResponder(configuration: configuration)
        let router = Router()
        router.get("/healthz") { _, _ in HTTPResponse.Status.ok }
        router.head("/healthz") { _, _ in HTTPResponse.Status.ok }
        router.post("/v1/chat/completions") { request, _ in
            try await responder.respond(OpenAIDialect(), to: request)
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
