/// Limits and timeouts of one ``CurlHTTPClient``.
public struct CurlHTTPClientConfiguration: Sendable, Hashable {
    /// Open connections to one host:port at most; further requests wait inside libcurl for a
    /// free connection (their ``HTTPClientRequest/timeoutMs`` keeps running). Default: 256.
    public var maxConnectionsPerHost: Int
    /// Open connections to all hosts at most; also the size of the keep-alive cache, so that
    /// a steady load reuses its connections instead of reopening them. Default: 512.
    public var maxTotalConnections: Int
    /// Time allowed to establish a connection (DNS, TCP, TLS), in milliseconds. Shorter than a
    /// request timeout so that a dead provider is detected before a slow one. Default: 5000.
    public var connectTimeoutMs: Int
    /// Largest response body read, in bytes. A longer body aborts its transfer as soon as it
    /// passes the limit (or at once, when its `Content-Length` says so), which fails with
    /// ``CurlError/isResponseTooLarge``: a runaway provider costs at most this much memory per
    /// request, never the process. Default: 16 MiB.
    public var maxResponseBytes: Int

    public init(
        maxConnectionsPerHost: Int = 256, maxTotalConnections: Int = 512, connectTimeoutMs: Int = 5_000,
        maxResponseBytes: Int = 16 << 20
    ) {
        self.maxConnectionsPerHost = maxConnectionsPerHost
        self.maxTotalConnections = maxTotalConnections
        self.connectTimeoutMs = connectTimeoutMs
        self.maxResponseBytes = maxResponseBytes
    }
}
