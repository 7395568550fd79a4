import Foundation

/// One running process (`sluice`, or the dev broker) with its output in a log file.
final class SluiceProcess: @unchecked Sendable {
    // @unchecked: Foundation.Process is thread-safe for the calls used here (pid, isRunning,
    // waitUntilExit); the rest is immutable.
    let name: String
    let logPath: String
    private let process = Process()

    /// - Parameter executable: default: the `sluice` binary under test.
    init(name: String, executable: String? = nil, arguments: [String], logPath: String, environment: [String: String] = [:]) throws {
        self.name = name
        self.logPath = logPath
        process.executableURL = URL(fileURLWithPath: try executable ?? Harness.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try log.seekToEnd()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// SIGKILL: the process gets no chance to flush, commit or leave its group.
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }

    /// SIGTERM and wait, as an operator's `systemctl stop` would.
    @discardableResult
    func terminate() async -> Int32 {
        if process.isRunning { process.terminate() }
        return await exitStatus()
    }

    /// Waits without blocking a thread of the cooperative pool (tests share two cores).
    func exitStatus() async -> Int32 {
        while process.isRunning {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    func logTail(lines: Int = 40) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return "[\(name) log]\n" + text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
