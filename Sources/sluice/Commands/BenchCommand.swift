import ArgumentParser
import Bench

/// Load generator: submits jobs over HTTP and waits until the ledger reports them all finished.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Submit N jobs at concurrency C, wait for all to finish, print throughput and latency percentiles."
    )

    @Option(name: .long, help: "Base URL of the Sluice HTTP API.")
    var url: String = "http://127.0.0.1:8080"

    @Option(name: .long, help: "API key to submit with.")
    var key: String = "sk-sluice-demo"

    @Option(name: [.short, .long], help: "Number of jobs.")
    var jobs: Int = 10_000

    @Option(name: [.short, .long], help: "Requests in flight.")
    var concurrency: Int = 64

    @Option(name: .long, help: "Model name to ask for.")
    var model: String = "demo"

    @Option(name: .long, help: "p0, p1 or p2 (default: the server's default).")
    var priority: String?

    @Option(name: .long, help: "Approximate size of each prompt in bytes.")
    var promptBytes: Int = 200

    @Option(name: .long, help: "Give up waiting for completion after this many seconds.")
    var timeout: Int = 300

    func validate() throws {
        guard jobs > 0, concurrency > 0, promptBytes > 0, timeout > 0 else {
            throw ValidationError("--jobs, --concurrency, --prompt-bytes and --timeout must be positive")
        }
    }

    func run() async throws {
        let configuration = BenchConfiguration(
            baseURL: url, apiKey: key, jobs: jobs, concurrency: concurrency, model: model, priority: priority,
            promptBytes: promptBytes, completionTimeoutSeconds: timeout
        )
        let report = try await Bench.run(configuration) { line in print(line) }
        print(report)
        if report.accepted < jobs || report.succeeded < report.accepted {
            throw ExitCode(1)
        }
    }
}
