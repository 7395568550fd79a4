import CCurl

/// A transfer that got no complete HTTP answer: libcurl's `CURLcode` and its explanation.
///
/// The code is kept as a plain number so that callers need not import libcurl; the `is…`
/// properties carry the decisions the workers make from it (retry, open the breaker).
public struct CurlError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `CURLcode` (e.g. 7 couldn't connect, 28 timed out).
    public var code: Int32
    /// libcurl's detailed message for this transfer, or its generic text for the code.
    public var message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "curl error \(code): \(message)" }

    /// The request's total timeout or the connect timeout passed.
    public var isTimeout: Bool { code == Self.raw(CURLE_OPERATION_TIMEDOUT) }

    /// The response was larger than the client's ``CurlHTTPClientConfiguration/maxResponseBytes``
    /// (or its headers larger than 256 KiB); the transfer was cut off.
    /// Not retriable: the same request would get the same answer.
    public var isResponseTooLarge: Bool { code == Self.raw(CURLE_FILESIZE_EXCEEDED) }

    /// No connection could be made: refused, unreachable, or the name did not resolve.
    public var isConnectFailure: Bool {
        [CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY].map(Self.raw).contains(code)
    }

    /// Whether the same request may succeed later: timeouts, connect and DNS failures, and
    /// connections that broke mid-exchange. Bad URLs, TLS verification failures and the like
    /// will fail again, so retrying them only burns attempts.
    public var isRetriable: Bool {
        if isTimeout || isConnectFailure { return true }
        let transient = [
            CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
            CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_AGAIN,
        ]
        return transient.map(Self.raw).contains(code)
    }

    // MARK: - Errors made by the client itself

    /// The client was shut down before the transfer finished.
    static let shutdown = CurlError(code: raw(CURLE_ABORTED_BY_CALLBACK), message: "the HTTP client was shut down")

    /// libcurl could not allocate an easy handle.
    static let outOfMemory = CurlError(code: raw(CURLE_OUT_OF_MEMORY), message: "libcurl could not allocate a transfer")

    /// The multi handle refused a transfer (`curl_multi_add_handle` failed).
    static let refused = CurlError(code: raw(CURLE_FAILED_INIT), message: "libcurl refused to start the transfer")

    /// A response body over `limit` bytes, cut off by the write callback or refused for its
    /// `Content-Length`.
    public static func responseTooLarge(limit: Int) -> CurlError {
        CurlError(code: raw(CURLE_FILESIZE_EXCEEDED), message: "the response body is larger than the limit of \(limit) bytes")
    }

    /// Response headers over `limit` bytes in all.
    static func headersTooLarge(limit: Int) -> CurlError {
        CurlError(code: raw(CURLE_FILESIZE_EXCEEDED), message: "the response headers are larger than the limit of \(limit) bytes")
    }

    /// The error libcurl reported for a finished transfer, with the easy handle's detail text if any.
    static func transferFailed(code: Int32, detail: String) -> CurlError {
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(CURLcode(rawValue: UInt32(bitPattern: code)))) : detail
        return CurlError(code: code, message: text)
    }

    private static func raw(_ code: CURLcode) -> Int32 { Int32(bitPattern: code.rawValue) }
}
