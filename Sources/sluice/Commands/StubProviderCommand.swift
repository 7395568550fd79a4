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

    @Option(name: .long, help: "The status of --error-rate answers (500…599, e.g. 503 or 529).")
    var errorStatus: Int = 500

    @Option(name: .long, help: "Fraction of requests never answered (0…1).")
    var hangRate: Double = 0

    @Option(name: .long, help: "Answer the first N calls of each job id (X-Sluice-Job-Id) with 429.")
    var failFirstCalls: Int = 0

    @Option(name: .long, help: "Enforced requests per minute, answered 429 with the dialect's rate-limit headers beyond it (0: none).")
    var rpm: Int = 0

    @Option(name: .long, help: "Enforced tokens per minute (prompt + completion; 0: none).")
    var tpm: Int = 0

    @Option(name: .long, help: "Send the dialect's rate-limit headers (x-ratelimit-*, anthropic-ratelimit-*): true or false.")
    var rateLimitHeaders: Bool = true

    func validate() throws {
        guard (0...100_000_000).contains(rpm) else { throw ValidationError("--rpm must be between 0 and 100000000") }
        guard (0...100_000_000_000).contains(tpm) else { throw ValidationError("--tpm must be between 0 and 100000000000") }
        guard (0...1).contains(errorRate), (0...1).contains(rateLimitRate), (0...1).contains(hangRate) else {
            throw ValidationError("--error-rate, --rate-limit-rate and --hang-rate are fractions between 0 and 1")
        }
        guard (500...599).contains(errorStatus) else { throw ValidationError("--error-status must be between 500 and 599") }
        guard (0...1_000).contains(failFirstCalls) else { throw ValidationError("--fail-first-calls must be between 0 and 1000") }
        guard (1...65_535).contains(port) || port == 0 else { throw ValidationError("--port must be between 0 and 65535") }
        guard latencyMs >= 0, latencyJitterMs >= 0, retryAfter >= 0 else { throw ValidationError("latencies and --retry-after must not be negative") }
    }

    func run() async throws {
        let logger = options.logger("sluice.stub-provider")
        let configuration = StubProviderConfiguration(
            host: host, port: port,
            faults: StubFaults(
                latencyMs: latencyMs, latencyJitterMs: latencyJitterMs, errorRate: errorRate, errorStatus: errorStatus,
                rateLimitRate: rateLimitRate, retryAfterSeconds: retryAfter, hangRate: hangRate, failFirstCalls: failFirstCalls,
                rpm: rpm, tpm: tpm, rateLimitHeaders: rateLimitHeaders)
        )
        try await runServiceGroup([StubProviderService(configuration: configuration, logger: logger)], logger: logger)
    }
}
