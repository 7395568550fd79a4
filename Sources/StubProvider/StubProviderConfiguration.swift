/// How the stub provider listens and how it misbehaves at start (`POST /stub/faults` changes
/// the faults while it runs).
///
/// The faults are random per request so that a benchmark sees a realistic mix; set a rate to
/// 0 or 1 for a deterministic test.
public struct StubProviderConfiguration: Sendable, Hashable {
    /// Default: `127.0.0.1` (loopback only: the stub has no authentication).
    public var host: String
    /// 0 picks a free port (see ``StubProviderService/init(configuration:logger:onServerRunning:)``). Default: 9300.
    public var port: Int
    /// The faults it starts with. Default: none (every request answered at once).
    public var faults: StubFaults

    public init(host: String = "127.0.0.1", port: Int = 9300, faults: StubFaults = .init()) {
        self.host = host
        self.port = port
        self.faults = faults
    }

    public init(
        host: String = "127.0.0.1", port: Int = 9300, latencyMs: Int = 0, latencyJitterMs: Int = 0,
        errorRate: Double = 0, rateLimitRate: Double = 0, retryAfterSeconds: Int = 1
    ) {
        self.init(
            host: host, port: port,
            faults: StubFaults(
                latencyMs: latencyMs, latencyJitterMs: latencyJitterMs, errorRate: errorRate,
                rateLimitRate: rateLimitRate, retryAfterSeconds: retryAfterSeconds))
    }
}
