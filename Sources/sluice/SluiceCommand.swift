import Synchronization
import ArgumentParser
import Foundation
import Logging
import SluiceCore

@main
struct SluiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Self-hosted asynchronous LLM job broker.",
        subcommands: [
            ServeCommand.self, IngressCommand.self, WorkerCommand.self, LedgerCommand.self, TopicsCommand.self,
            KeysCommand.self, TenantsCommand.self, DLQCommand.self, JobsCommand.self, AuditCommand.self, StubProviderCommand.self, BenchCommand.self,
            RedactCommand.self, UsageCommand.self,
            WebhooksCommand.self,
            BatchCommand.self,
        ]
    )
}

/// Options every command that runs Sluice components takes.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Path of sluice.yaml (also SLUICE_CONFIG).")
    var config: String?

    @Option(name: .long, help: "trace, debug, info, notice, warning, error (also SLUICE_LOG_LEVEL).")
    var logLevel: String?

    @Option(
        name: .long,
        help: "Serve /healthz, /readyz and /metrics on this port, for roles without the HTTP API (worker, ledger, webhooks) (also SLUICE_OPERATIONS_PORT).")
    var operationsPort: Int?

    /// `--operations-port`, else `SLUICE_OPERATIONS_PORT`; nil when neither is set.
    func resolvedOperationsPort() throws -> Int? {
        let text = operationsPort.map(String.init) ?? ProcessInfo.processInfo.environment["SLUICE_OPERATIONS_PORT"]
        guard let text, !text.isEmpty else { return nil }
        guard let port = Int(text), (1...65_535).contains(port) else {
            throw ValidationError("--operations-port (SLUICE_OPERATIONS_PORT) must be a port between 1 and 65535, got '\(text)'")
        }
        return port
    }

    /// - Parameter logging: the `logging:` section; commands that read no configuration take
    ///   `SLUICE_LOGGING_FORMAT` (default `auto`).
    func logger(_ label: String, logging: LoggingConfiguration? = nil) -> Logger {
        let env = ProcessInfo.processInfo.environment
        let level = (logLevel ?? env["SLUICE_LOG_LEVEL"]).flatMap(Logger.Level.init(rawValue:)) ?? .info
        let logging = logging ?? LoggingConfiguration(format: env["SLUICE_LOGGING_FORMAT"] ?? "auto")
        LoggingBootstrap.once(level: level, json: logging.writesJSON(stderrIsTerminal: isatty(2) == 1))
        return Logger(label: label)
    }

    func wiring(_ label: String) throws -> Wiring {
        let path = config ?? ProcessInfo.processInfo.environment["SLUICE_CONFIG"]
        let configuration = try ConfigurationLoader.load(path: path)
        let logger = logger(label, logging: configuration.logging)
        MetricsBootstrap.once()
        return Wiring(configuration: configuration, logger: logger)
    }
}

enum LoggingBootstrap {
    private static let done = Mutex(false)

    /// - Parameter json: one JSON object per line (``JSONLogHandler``) rather than swift-log's text.
    static func once(level: Logger.Level, json: Bool) {
        done.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                if json { return JSONLogHandler(label: label, level: level) }
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}
