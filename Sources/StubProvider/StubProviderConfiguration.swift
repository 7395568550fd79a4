/// How the stub provider listens and misbehaves.
///
/// The faults are random per request so that a benchmark sees a realistic mix; set a rate to
/// 0 or 1 for a deterministic test.
public struct StubProviderConfiguration: Sendable, Hashable {
    /// Default: `127.0.0.1` (loopback only: the stub has no authentication).
    public var host: String
    /// 0 picks a free port (see ``StubProviderService/init(configuration:logger:onServerRunning:)``). Default: 9300.
    public var port: Int
    /// Added before every answer that is not a rate-limit rejection, in milliseconds. Default: 0.
    public var latencyMs: Int
    /// A uniformly random extra delay of 0…`latencyJitterMs` on top of ``latencyMs``. Default: 0.
    public var latencyJitterMs: Int
    /// Fraction of valid requests answered 500 with the dialect's server-error body. Default: 0.
    public var errorRate: Double
    /// Fraction of requests answered 429 at once, with `Retry-After` and the dialect's
    /// rate-limit body. Checked before anything else, as real providers do. Default: 0.
    public var rateLimitRate: Double
    /// The `Retry-After` of a 429, in seconds. Default: 1.
    public var retryAfterSeconds: Int

    public init(
        host: String = "127.0.0.1", port: Int = 9300, latencyMs: Int = 0, latencyJitterMs: Int = 0,
        errorRate: Double = 0, rateLimitRate: Double = 0, retryAfterSeconds: Int = 1
    ) {
        self.host = host
        self.port = port
        self.latencyMs = latencyMs
        self.latencyJitterMs = latencyJitterMs
        self.errorRate = errorRate
        self.rateLimitRate = rateLimitRate
        self.retryAfterSeconds = retryAfterSeconds
    }
}
