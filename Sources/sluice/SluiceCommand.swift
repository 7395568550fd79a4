import Synchronization
import ArgumentParser
import Foundation
import Logging

@main
struct SluiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Self-hosted asynchronous LLM job broker.",
        subcommands: [
            ServeCommand.self, IngressCommand.self, WorkerCommand.self, LedgerCommand.self, TopicsCommand.self,
            KeysCommand.self, DLQCommand.self, JobsCommand.self, AuditCommand.self, StubProviderCommand.self, BenchCommand.self,
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

    func logger(_ label: String) -> Logger {
        let env = ProcessInfo.processInfo.environment
        let level = (logLevel ?? env["SLUICE_LOG_LEVEL"]).flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingBootstrap.once(level: level)
        return Logger(label: label)
    }

    func wiring(_ label: String) throws -> Wiring {
        let logger = logger(label)
        MetricsBootstrap.once()
        let path = config ?? ProcessInfo.processInfo.environment["SLUICE_CONFIG"]
        return Wiring(configuration: try ConfigurationLoader.load(path: path), logger: logger)
    }
}

enum LoggingBootstrap {
    private static let done = Mutex(false)

    static func once(level: Logger.Level) {
        done.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}
