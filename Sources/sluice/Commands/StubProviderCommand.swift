import ArgumentParser
import StubProvider

/// A local fake LLM in OpenAI's wire format, for demos, tests and benchmarks.
struct StubProviderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stub-provider",
        abstract: "Run a fake OpenAI-compatible LLM that answers with the first sentence of the last user message."
    )

    @OptionGroup var options: CommonOptions

    @Option(name: .long, help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on.")
    var port: Int = 9300

    @Option(name: .long, help: "Latency added to every answer, in ms.")
    var latencyMs: Int = 0

    @Option(name: .long, help: "Random extra latency of up to this many ms.")
    var latencyJitterMs: Int = 0

    @Option(name: .long, help: "Fraction of requests answered 500 (0…1).")
    var errorRate: Double = 0

    @Option(name: .long, help: "Fraction of requests answered 429 with Retry-After (0…1).")
    var rateLimitRate: Double = 0

    @Option(name: .long, help: "Seconds in the Retry-After of a 429.")
    var retryAfter: Int = 1

    func validate() throws {
        guard (0...1).contains(errorRate), (0...1).contains(rateLimitRate) else {
            throw ValidationError("--error-rate and --rate-limit-rate are fractions between 0 and 1")
        }
        guard latencyMs >= 0, latencyJitterMs >= 0, retryAfter >= 0 else { throw ValidationError("latencies and --retry-after must not be negative") }
    }

    func run() async throws {
        let logger = options.logger("sluice.stub-provider")
        let configuration = StubProviderConfiguration(
            host: host, port: port, latencyMs: latencyMs, latencyJitterMs: latencyJitterMs, errorRate: errorRate,
            rateLimitRate: rateLimitRate, retryAfterSeconds: retryAfter
        )
        try await runServiceGroup([StubProviderService(configuration: configuration, logger: logger)], logger: logger)
    }
}
