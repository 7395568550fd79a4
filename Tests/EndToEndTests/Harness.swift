import Foundation
import Kafka
import Logging
import SluiceCore
import SluiceHTTP
import Synchronization
import Testing
import Workers

/// Runs the built `sluice` binary as real processes against a real broker, for end-to-end and
/// fault tests. `make test` (scripts/test) provides the binary, the broker and the repo root.
struct Harness {
    static let environment = ProcessInfo.processInfo.environment

    static func required(_ name: String) throws -> String {
        guard let value = environment[name], !value.isEmpty else {
            throw HarnessError("\(name) is not set: run the suite with `make test`, which builds sluice and starts a dev broker")
        }
        return value
    }

    static var binary: String { get throws { try required("SLUICE_BIN") } }
    static var bootstrap: String { get throws { try required("SLUICE_TEST_BOOTSTRAP") } }
    static var repoRoot: String { get throws { try required("SLUICE_REPO_ROOT") } }
    /// The Tansu dev broker binary, for tests that stop and restart a broker of their own.
    static var tansu: String { get throws { try required("SLUICE_TANSU") } }

    /// A loopback TCP port for a process a test starts: below the kernel's ephemeral range, never
    /// handed out twice by this test process, and bindable right now.
    ///
    /// Port 0 alone was not enough: two deployments of the parallel suite were once given the
    /// same ephemeral port, one stub failed to bind ("Address already in use") and the test
    /// talked to the other deployment's stub until it went away. Below the ephemeral range no
    /// outgoing connection (a Kafka client's, say) takes the port meanwhile either.
    static func freePort() -> Int {
        for _ in 0..<10_000 {
            let port = Int.random(in: portRange)
            guard handedOut.withLock({ $0.insert(port).inserted }) else { continue }
            if canBind(port) { return port }
        }
        fatalError("no free loopback port in \(portRange) after 10,000 tries")
    }

    private static let handedOut = Mutex<Set<Int>>([])

    /// 10,000 up to the start of the kernel's ephemeral ports (32,768 by default); a machine
    /// whose ephemeral range starts lower keeps 10,000–32,767 (no duplicates in this process still).
    private static let portRange: ClosedRange<Int> = {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let low = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32_768
        return (12_000...65_535).contains(low) ? 10_000...(low - 1) : 10_000...32_767
    }()

    private static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let len = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } } == 0
    }

    static func tempDirectory(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-\(name)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - A test deployment

/// One isolated Sluice: its own topic prefix, consumer groups (by prefix), database, ports and
/// stub provider.
final class Deployment: @unchecked Sendable {
    // @unchecked: mutated only by the owning test, sequentially.
    let dir: String
    let prefix: String
    let apiPort: Int
    let stubPort: Int
    /// A second stub provider's port, for fallback tests (``startStub(name:port:latencyMs:arguments:)``).
    let stub2Port: Int
    let bootstrap: String
    let tenants: [String]
    var processes: [String: SluiceProcess] = [:]
    let http: CurlHTTPClient

    var configPath: String { dir + "/sluice.yaml" }
    var databasePath: String { dir + "/ledger.db" }
    var baseURL: String { "http://127.0.0.1:\(apiPort)" }

    /// - Parameters:
    ///   - workerSettings: extra `workers:` keys (e.g. `shutdown_grace_ms: 2000`), one per line.
    ///   - providers: replaces the `providers:` and `routes:` sections (and may add `pricing:`);
    ///     `STUB` in it stands for the stub's `http://127.0.0.1:<port>`.
    ///   - routing: the same sections built from the two stub ports (wins over `providers`);
    ///     default: one stub provider serving `demo` and `gpt-4o-mini`.
    ///   - tenantSettings: extra YAML for a tenant's entry (`allow_p0: true`, `limits: {…}`),
    ///     and `role: admin|auditor` for the role of its key.
    ///   - produceTimeoutMs: `ingress.produce_timeout_ms`. 10 s by default: the suite shares one
    ///     dev broker with half a dozen deployments on two cores, and CI once saw a produce go
    ///     unconfirmed for 3 s there (a 503 the client may retry, but the tests count on their
    ///     submissions being accepted). Tests that stop their broker and time the 503 set 3 s.
    init(
        name: String, bootstrap: String? = nil, tenants: [String] = ["acme"], workerConcurrency: Int = 64,
        workerSettings: [String] = [], providers: String? = nil,
        routing: ((_ stubPort: Int, _ stub2Port: Int) -> String)? = nil, tenantSettings: [String: [String]] = [:],
        ingressSettings: [String] = [], extraYAML: String = "", produceTimeoutMs: Int = 10_000
    ) throws {
        dir = try Harness.tempDirectory(name)
        prefix = "t\(UUID().uuidString.prefix(8).lowercased())"
        apiPort = Harness.freePort()
        stubPort = Harness.freePort()
        stub2Port = Harness.freePort()
        self.bootstrap = try bootstrap ?? Harness.bootstrap
        self.tenants = tenants
        http = try CurlHTTPClient()
        // The test's own settings replace these defaults key by key.
        var workers: [(String, String)] = [
            ("max_in_flight", "256"), ("concurrency", "\(workerConcurrency)"), ("request_timeout_ms", "10000"),
            ("retry_base_delay_ms", "100"),
        ]
        for setting in workerSettings {
            let parts = setting.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            workers.removeAll { $0.0 == parts[0] }
            workers.append((parts[0], parts[1]))
        }
        let workersYAML = workers.map { "  \($0.0): \($0.1)\n" }.joined()
        let tenantYAML = tenants.map { tenant in
            let settings = tenantSettings[tenant] ?? []
            let role = settings.first { $0.hasPrefix("role:") }.map { "        \($0)\n" } ?? ""
            let extra = settings.filter { !$0.hasPrefix("role:") }.map { "    \($0)\n" }.joined()
            return "  - id: \(tenant)\n    keys:\n      - key: \(Self.key(for: tenant))\n\(role)\(extra)"
        }.joined()
        let routingYAML = routing?(stubPort, stub2Port)
            ?? providers?.replacingOccurrences(of: "STUB", with: "http://127.0.0.1:\(stubPort)") ?? """
            providers:
              - name: stub
                base_url: http://127.0.0.1:\(stubPort)/v1
            routes:
              demo: {provider: stub}
              gpt-4o-mini: {provider: stub, model: stub-mini}
            """
        let yaml = """
        kafka:
          bootstrap_servers: \(self.bootstrap)
          topic_prefix: \(prefix)
          session_timeout_ms: 6000
          heartbeat_interval_ms: 1000
          dev_broker: true
        ingress:
          host: 127.0.0.1
          port: \(apiPort)
          produce_timeout_ms: \(produceTimeoutMs)
          retry_after_seconds: 2
        \(ingressSettings.map { "  \($0)\n" }.joined())workers:
        \(workersYAML)ledger:
          path: \(databasePath)
        tenants:
        \(tenantYAML)
        \(routingYAML)
        \(extraYAML)
        """
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    static func key(for tenant: String) -> String { "sk-sluice-test-\(tenant)" }

    deinit {
        for process in processes.values { process.kill() }
        http.shutdown()
    }

    // MARK: Processes

    @discardableResult
    func start(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> SluiceProcess {
        // Appended, not truncated: a restarted process keeps its predecessor's log above its own.
        let process = try SluiceProcess(
            name: name, arguments: arguments, logPath: "\(dir)/\(name).log",
            environment: environment.merging(["SLUICE_KAFKA_BOOTSTRAP_SERVERS": bootstrap]) { _, new in new })
        processes[name] = process
        return process
    }

    func applyTopics() async throws {
        let root = try Harness.repoRoot
        let process = try SluiceProcess(
            name: "topics", arguments: ["topics", "apply", "--config", configPath, "--dir", root + "/topics"],
            logPath: "\(dir)/topics-\(UUID().uuidString.prefix(4)).log", environment: ["SLUICE_KAFKA_BOOTSTRAP_SERVERS": bootstrap]
        )
        let status = await process.exitStatus()
        guard status == 0 else { throw HarnessError("topics apply failed (\(status)): \(process.logTail())") }
    }

    func startStub(name: String = "stub", port: Int? = nil, latencyMs: Int = 0, arguments: [String] = []) async throws {
        let port = port ?? stubPort
        try start(name, ["stub-provider", "--port", "\(port)", "--latency-ms", "\(latencyMs)"] + arguments)
        try await waitUntil("stub provider answers", timeout: .seconds(30)) {
            (try? await self.http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz", timeoutMs: 1000)))?.status == 200
        }
    }

    /// Starts `sluice <role>` and, for roles with an HTTP API, waits for /healthz.
    func startSluice(_ name: String, role: String) async throws {
        try start(name, [role, "--config", configPath])
        if role == "serve" || role == "ingress" {
            try await waitUntil("\(name) answers /healthz", timeout: .seconds(60)) {
                guard self.processes[name]?.isRunning == true else { return true }
                return (try? await self.http.execute(HTTPClientRequest(url: self.baseURL + "/healthz", timeoutMs: 1000)))?.status == 200
            }
            guard processes[name]?.isRunning == true else {
                throw HarnessError("\(name) exited: \(processes[name]?.logTail() ?? "")")
            }
        }
    }

    /// The roles as separate processes: ledger first (the ingress reads its file), then the
    /// ingress, then one worker per name.
    func startSplitRoles(workers: [String]) async throws {
        try await startSluice("ledger", role: "ledger")
        try await waitUntil("ledger created its database", timeout: .seconds(30)) {
            FileManager.default.fileExists(atPath: self.databasePath)
        }
        try await startSluice("ingress", role: "ingress")
        for name in workers { try await startSluice(name, role: "worker") }
    }

    // MARK: Stub provider

    /// How often the stub was called for each job id, and in all.
    func stubCalls() async throws -> (perJob: [String: Int], total: Int) {
        let response = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(stubPort)/stub/calls", timeoutMs: 5_000))
        let json = try JSONValue.parse(response.body)
        var perJob: [String: Int] = [:]
        for (id, count) in json["calls"]?.objectValue ?? [:] { perJob[id] = Int(count.intValue ?? 0) }
        return (perJob, Int(json["total"]?.intValue ?? 0))
    }

    /// Everything `GET /stub/calls` says (calls, 429s, successes and their first and last time).
    func stubStats(port: Int? = nil) async throws -> JSONValue {
        let response = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port ?? stubPort)/stub/calls", timeoutMs: 5_000))
        return try JSONValue.parse(response.body)
    }

    /// Changes the running stub's faults (`POST /stub/faults`).
    func setStubFaults(_ faults: JSONValue, port: Int? = nil) async throws {
        let response = try await http.execute(HTTPClientRequest(
            method: "POST", url: "http://127.0.0.1:\(port ?? stubPort)/stub/faults", body: faults.serialized(), timeoutMs: 5_000))
        guard response.status == 200 else { throw HarnessError("stub faults answered \(response.status): \(response.bodyText)") }
    }

    // MARK: HTTP

    func submit(tenant: String? = nil, body: String, headers: [HTTPHeader] = []) async throws -> HTTPClientResponse {
        var all = [HTTPHeader("Authorization", "Bearer \(Self.key(for: tenant ?? tenants[0]))"), HTTPHeader("Content-Type", "application/json")]
        all += headers
        return try await http.execute(HTTPClientRequest(method: "POST", url: baseURL + "/v1/jobs", headers: all, body: Array(body.utf8), timeoutMs: 15_000))
    }

    func job(_ id: String, tenant: String? = nil) async throws -> (status: Int, json: JSONValue?) {
        let response = try await http.execute(HTTPClientRequest(
            url: baseURL + "/v1/jobs/\(id)", headers: [HTTPHeader("Authorization", "Bearer \(Self.key(for: tenant ?? tenants[0]))")],
            timeoutMs: 15_000
        ))
        return (response.status, try? JSONDecoder().decode(JSONValue.self, from: Data(response.body)))
    }

    /// Submits one job per prompt with `concurrency` in flight; returns job id → prompt.
    func submitAll(
        _ prompts: [(tenant: String, text: String)], concurrency: Int = 32, model: String = "demo", priority: String? = nil
    ) async throws -> [String: String] {
        var accepted: [String: String] = [:]
        try await withThrowingTaskGroup(of: (String, String).self) { group in
            var next = 0
            func add() {
                guard next < prompts.count else { return }
                let (tenant, text) = prompts[next]
                next += 1
                group.addTask {
                    var fields: [String: JSONValue] = ["model": .string(model), "messages": [["role": "user", "content": .string(text)]]]
                    if let priority { fields["priority"] = .string(priority) }
                    let body = try String(decoding: JSONEncoder().encode(JSONValue.object(fields)), as: UTF8.self)
                    let response = try await self.submit(tenant: tenant, body: body)
                    guard response.status == 202, let id = (try? JSONDecoder().decode(JSONValue.self, from: Data(response.body)))?["id"]?.stringValue else {
                        throw HarnessError("submit answered \(response.status): \(response.bodyText)")
                    }
                    return (id, text)
                }
            }
            for _ in 0..<concurrency { add() }
            while let (id, text) = try await group.next() {
                accepted[id] = text
                add()
            }
        }
        return accepted
    }

    /// Polls every job until it is terminal; returns id → job JSON.
    func awaitTerminal(_ ids: [String: String], timeout: Duration) async throws -> [String: JSONValue] {
        var done: [String: JSONValue] = [:]
        let deadline = ContinuousClock.now + timeout
        while done.count < ids.count {
            let pending = ids.keys.filter { done[$0] == nil }
            try await withThrowingTaskGroup(of: (String, JSONValue?).self) { group in
                for (i, id) in pending.enumerated() {
                    if i >= 32 { if let (id, json) = try await group.next(), let json { done[id] = json } }
                    let tenant = ids[id].flatMap { text in tenants.first { text.hasPrefix("[\($0)]") } }
                    group.addTask {
                        let (status, json) = try await self.job(id, tenant: tenant)
                        guard status == 200, let json, let s = json["status"]?.stringValue, JobStatus(rawValue: s)?.isTerminal == true else { return (id, nil) }
                        return (id, json)
                    }
                }
                while let (id, json) = try await group.next() { if let json { done[id] = json } }
            }
            if done.count < ids.count {
                guard ContinuousClock.now < deadline else {
                    throw HarnessError("\(ids.count - done.count) of \(ids.count) jobs not finished within \(timeout)")
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        return done
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(_ what: String, timeout: Duration, interval: Duration = .milliseconds(200), _ condition: @escaping @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: interval)
    }
    throw HarnessError("timed out after \(timeout) waiting until \(what)")
}


extension Harness {
    /// Whether something accepts TCP connections on this loopback port.
    static func isListening(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

/// A dev broker of one test's own on a fixed port, for tests that stop and restart it (each
/// start is a new, empty broker on the same address, as after a dev-broker restart).
struct OwnBroker: Sendable {
    let port: Int
    let logs: String
    let tansu: String

    init(port: Int, logs: String) throws {
        self.port = port
        self.logs = logs
        self.tansu = try Harness.tansu
    }

    func start() async throws -> SluiceProcess {
        let broker = try SluiceProcess(
            name: "tansu", executable: tansu,
            arguments: ["broker", "--listener-url", "tcp://127.0.0.1:\(port)", "--advertised-listener-url", "tcp://127.0.0.1:\(port)"],
            logPath: "\(logs)/tansu-\(UUID().uuidString.prefix(4)).log"
        )
        try await waitUntil("the broker listens", timeout: .seconds(20)) { Harness.isListening(port: port) }
        return broker
    }
}

extension Deployment {
    /// Every record of `topics` on this deployment's broker, from the start to the end offsets
    /// seen at start (60 s at most), read in a consumer group of its own.
    func records(_ topics: [String]) async throws -> [KafkaMessage] {
        var configuration = KafkaTopicReader.Configuration(bootstrapServers: bootstrap, topics: topics)
        configuration.groupID = "test-reader-\(UUID().uuidString.prefix(8))"
        let reader = try KafkaTopicReader(configuration: configuration, logger: Logger(label: "topic-reader-test"))
        try await reader.start()
        var records: [KafkaMessage] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let message = try reader.poll() {
                records.append(message)
            } else if reader.isCaughtUp {
                break
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        await reader.close()
        return records
    }

    /// The values of ``records(_:)`` as text.
    func recordValues(_ topics: [String]) async throws -> [String] {
        try await records(topics).map { String(decoding: $0.value, as: UTF8.self) }
    }
}
