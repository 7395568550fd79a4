import ArgumentParser
import StubProvider

/// A local fake LLM in OpenAI's, Azure OpenAI's, Anthropic's and Gemini's wire formats, for
/// demos, tests and benchmarks.
struct StubProviderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stub-provider",
        abstract: "Run a fake LLM (OpenAI, Azure OpenAI, Anthropic and Gemini wire formats) that answers with the first sentence of the last user message."
    )

    @OptionGroup var options: CommonOptions

    @Option(name: .long, help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on.")
    var port: Int = 9300

    @Option(name: .long, help: "Latency added to every answer, in ms.")
    var latencyMs: Int = 0

    @Option(name: .long, help: "Random extra latency: up to this many ms (uniform) or this mean (exponential).")
    var latencyJitterMs: Int = 0

    @Option(name: .long, help: "How the extra latency is drawn: uniform or exponential.")
    var latencyDistribution: String = "uniform"

    @Option(name: .long, help: "Fraction of requests answered --error-status (0…1).")
    var errorRate: Double = 0

    @Option(name: .long, help: "Fraction of requests answered 429 with Retry-After (0…1).")
    var rateLimitRate: Double = 0

    @Option(name: .long, help: "Seconds in the Retry-After of a 429.")
    var retryAfter: Int = 1

    @Option(name: .long, help: "The status of --error-rate answers (400…599, e.g. 400, 503 or 529), with each dialect's error body.")
    var errorStatus: Int = 500

    @Option(name: .long, help: "Fraction of requests answered 200 with truncated JSON (0…1).")
    var malformedRate: Double = 0

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
        guard [errorRate, rateLimitRate, hangRate, malformedRate].allSatisfy({ (0...1).contains($0) }) else {
            throw ValidationError("--error-rate, --rate-limit-rate, --hang-rate and --malformed-rate are fractions between 0 and 1")
        }
        guard (400...599).contains(errorStatus) else { throw ValidationError("--error-status must be between 400 and 599") }
        guard StubLatencyDistribution(rawValue: latencyDistribution) != nil else {
            throw ValidationError("--latency-distribution must be uniform or exponential")
        }
        guard (0...1_000).contains(failFirstCalls) else { throw ValidationError("--fail-first-calls must be between 0 and 1000") }
        guard (1...65_535).contains(port) || port == 0 else { throw ValidationError("--port must be between 0 and 65535") }
        guard (0...600_000).contains(latencyMs), (0...600_000).contains(latencyJitterMs), (0...86_400).contains(retryAfter) else {
            throw ValidationError("--latency-ms and --latency-jitter-ms must be between 0 and 600000, --retry-after between 0 and 86400")
        }
    }

    func run() async throws {
        let logger = options.logger("sluice.stub-provider")
        let configuration = StubProviderConfiguration(
            host: host, port: port,
            faults: StubFaults(
                latencyMs: latencyMs, latencyJitterMs: latencyJitterMs,
                latencyDistribution: StubLatencyDistribution(rawValue: latencyDistribution) ?? .uniform,
                errorRate: errorRate, errorStatus: errorStatus, malformedRate: malformedRate, rateLimitRate: rateLimitRate,
                retryAfterSeconds: retryAfter, hangRate: hangRate, failFirstCalls: failFirstCalls,
                rpm: rpm, tpm: tpm, rateLimitHeaders: rateLimitHeaders)
        )
        try await runServiceGroup([StubProviderService(configuration: configuration, logger: logger)], logger: logger)
    }
}
