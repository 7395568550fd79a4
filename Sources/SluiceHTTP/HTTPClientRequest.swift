/// An HTTP/1.1 request for ``CurlHTTPClient``.
///
/// Plain values only, so a request can be built on any task, kept for a retry, and logged
/// (callers redact `Authorization` themselves).
public struct HTTPClientRequest: Sendable, Hashable {
    /// `GET`, `POST`, `PUT`, `DELETE`, `HEAD`, …; any other token is sent as is.
    public var method: String
    /// An absolute `http://` or `https://` URL.
    public var url: String
    /// Sent in this order. Add `Content-Type` yourself when there is a body: libcurl's default
    /// (`application/x-www-form-urlencoded`) is suppressed.
    public var headers: [HTTPHeader]
    /// Sent as is; empty means no body (a `POST` then sends `Content-Length: 0`).
    public var body: [UInt8]
    /// The whole exchange, from queueing to the last body byte, in milliseconds. 0 means no
    /// limit other than the connect timeout. Default: 30000.
    public var timeoutMs: Int

    public init(
        method: String = "GET", url: String, headers: [HTTPHeader] = [], body: [UInt8] = [],
        timeoutMs: Int = 30_000
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMs = timeoutMs
    }
}
