import CCurl

/// One libcurl easy handle and the buffers of the transfer it carries.
///
/// Handles are pooled and reused by ``CurlTransferLoop``: a reset handle keeps its DNS cache
/// and TLS session ids, which makes the next request to the same provider cheaper. Not
/// `Sendable`: a handle lives and dies on the loop thread.
final class CurlEasy {
    /// The C handle. Only ``CurlMulti`` hands it to libcurl (add, remove); nothing else may
    /// touch it.
    let handle: UnsafeMutableRawPointer

    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// libcurl writes the detailed message of a failed transfer here (`CURLOPT_ERRORBUFFER`).
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var responseHeaders: [HTTPHeader] = []
    private var responseBody: [UInt8] = []
    /// The body limit of the current transfer (``CurlHTTPClientConfiguration/maxResponseBytes``).
    private var maxResponseBytes = Int.max
    /// Header bytes received by the current transfer, every response of the exchange counted.
    private var headerBytes = 0
    /// Set when a callback cut the transfer off for its size; libcurl then reports only a
    /// generic write error, so this is the error the caller gets.
    private var sizeFailure: CurlError?

    /// Most header bytes one transfer may receive. Older libcurl bounds a single header line
    /// but not how many there are; newer (and patched) builds stop at 300 KB with a receive
    /// error that reads as transient. Stopping a little earlier here gives the same answer on
    /// every build: ``CurlError/isResponseTooLarge``, not worth a retry.
    static let maxHeaderBytes = 256 << 10

    /// `nil` when libcurl cannot allocate a handle (out of memory).
    init?() {
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    // MARK: - Transfer life cycle

    /// Sets every option of `request` on the handle, which must be fresh or ``recycle()``d.
    ///
    /// - Parameters:
    ///   - id: Stored as `CURLOPT_PRIVATE` so that ``CurlMulti`` can tell which transfer finished.
    ///   - maxResponseBytes: The body is cut off past this many bytes (see ``failure(code:)``).
    /// - Throws: ``CurlError`` when libcurl refuses an option (out of memory, unsupported method).
    func prepare(id: UInt64, request: HTTPClientRequest, connectTimeoutMs: Int, maxResponseBytes: Int) throws(CurlError) {
        self.maxResponseBytes = max(0, maxResponseBytes)
        try set(CURLOPT_NOSIGNAL, 1)  // signals cannot be used on a thread that shares the process
        try set(CURLOPT_PRIVATE, UnsafeRawPointer(bitPattern: UInt(id)))
        try set(CURLOPT_ERRORBUFFER, UnsafeRawPointer(errorBuffer))
        try check(request.url.withCString { sluice_curl_easy_setopt_ptr(handle, CURLOPT_URL, $0) })
        try check(sluice_curl_easy_setopt_ptr(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        try set(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1)
        try set(CURLOPT_CONNECTTIMEOUT_MS, max(0, connectTimeoutMs))
        try set(CURLOPT_TIMEOUT_MS, max(0, request.timeoutMs))
        // Refuses a body whose Content-Length is over the limit before reading it (0 would mean
        // no limit); the write callback enforces the limit on bodies of unknown length.
        if self.maxResponseBytes > 0 { try set(CURLOPT_MAXFILESIZE_LARGE, off: curl_off_t(self.maxResponseBytes)) }
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        try setMethodAndBody(request)
        try setHeaders(request)
        try installCallbacks()
    }

    /// The answer collected so far; call once the transfer finished with `CURLE_OK`.
    func takeResponse() -> HTTPClientResponse {
        var status = 0
        sluice_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let response = HTTPClientResponse(status: status, headers: responseHeaders, body: responseBody)
        responseHeaders = []
        responseBody = []
        return response
    }

    /// The error of a transfer that finished with `code`: ``CurlError/isResponseTooLarge``
    /// when the answer passed a size limit, whichever way libcurl noticed.
    func failure(code: Int32) -> CurlError {
        if let sizeFailure { return sizeFailure }
        if code == Int32(bitPattern: CURLE_FILESIZE_EXCEEDED.rawValue) { return .responseTooLarge(limit: maxResponseBytes) }
        return CurlError.transferFailed(code: code, detail: String(cString: errorBuffer))
    }

    /// Clears every option and buffer so the handle can carry another request. The connection
    /// it used stays in the multi handle's cache.
    func recycle() {
        curl_easy_reset(handle)
        curl_slist_free_all(headerList)
        headerList = nil
        responseHeaders = []
        responseBody = []
        maxResponseBytes = Int.max
        headerBytes = 0
        sizeFailure = nil
        errorBuffer[0] = 0
    }

    // MARK: - Options

    private func setMethodAndBody(_ request: HTTPClientRequest) throws(CurlError) {
        let method = request.method.uppercased()
        if request.body.isEmpty && method != "POST" {
            switch method {
            case "GET": try set(CURLOPT_HTTPGET, 1)
            case "HEAD": try set(CURLOPT_NOBODY, 1)
            default: try setCustomMethod(method)
            }
            return
        }
        // COPYPOSTFIELDS copies the bytes, so the request's array need not outlive this call;
        // the size goes first so that binary bodies with NUL bytes are sent whole.
        try set(CURLOPT_POSTFIELDSIZE_LARGE, off: curl_off_t(request.body.count))
        var empty: UInt8 = 0
        let code = request.body.isEmpty
            ? sluice_curl_easy_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, &empty)
            : request.body.withUnsafeBytes { sluice_curl_easy_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
        try check(code)
        if method != "POST" { try setCustomMethod(method) }
    }

    private func setCustomMethod(_ method: String) throws(CurlError) {
        try check(method.withCString { sluice_curl_easy_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, $0) })
    }

    private func setHeaders(_ request: HTTPClientRequest) throws(CurlError) {
        var lines: [String] = []
        lines.reserveCapacity(request.headers.count + 2)
        for header in request.headers {
            // "Name:" would tell libcurl to drop the header; "Name;" sends it with an empty value.
            lines.append(header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)")
        }
        // Providers answer at once; waiting for `100 Continue` only adds a round trip (or a
        // one-second stall against servers that never send it).
        lines.append("Expect:")
        if !request.body.isEmpty && request.headers.first(named: "content-type") == nil {
            lines.append("Content-Type:")  // no guessed form encoding
        }
        for line in lines {
            guard let list = curl_slist_append(headerList, line) else {
                throw CurlError.transferFailed(code: Int32(bitPattern: CURLE_OUT_OF_MEMORY.rawValue), detail: "")
            }
            headerList = list
        }
        try check(sluice_curl_easy_setopt_ptr(handle, CURLOPT_HTTPHEADER, headerList))
    }

    private func installCallbacks() throws(CurlError) {
        let me = Unmanaged.passUnretained(self).toOpaque()  // the loop keeps self alive while it is in the multi
        try check(sluice_curl_easy_setopt_write_cb(handle, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            let bytes = size * count
            guard let data, let user else { return bytes }
            let easy = Unmanaged<CurlEasy>.fromOpaque(user).takeUnretainedValue()
            // Written as a subtraction so that no sum can overflow; the body never exceeds the limit.
            guard bytes <= easy.maxResponseBytes - easy.responseBody.count else {
                easy.sizeFailure = .responseTooLarge(limit: easy.maxResponseBytes)
                return 0  // any count but `bytes` makes libcurl abort the transfer
            }
            easy.responseBody.append(contentsOf: UnsafeRawBufferPointer(start: data, count: bytes))
            return bytes
        })
        try set(CURLOPT_WRITEDATA, UnsafeRawPointer(me))
        try check(sluice_curl_easy_setopt_write_cb(handle, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            let bytes = size * count
            guard let data, let user else { return bytes }
            let easy = Unmanaged<CurlEasy>.fromOpaque(user).takeUnretainedValue()
            guard bytes <= CurlEasy.maxHeaderBytes - easy.headerBytes else {
                easy.sizeFailure = .headersTooLarge(limit: CurlEasy.maxHeaderBytes)
                return 0
            }
            easy.headerBytes += bytes
            easy.receivedHeaderLine(UnsafeRawBufferPointer(start: data, count: bytes))
            return bytes
        })
        try set(CURLOPT_HEADERDATA, UnsafeRawPointer(me))
    }

    // MARK: - Response headers

    /// libcurl calls back once per header line, status lines included, for every response of
    /// the exchange (an interim `100 Continue`, redirects); a status line starts a new set.
    private func receivedHeaderLine(_ raw: UnsafeRawBufferPointer) {
        let line = String(decoding: raw, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            responseHeaders.removeAll(keepingCapacity: true)
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }  // the blank line that ends the head
        let name = line[..<colon].trimmingWhitespace().lowercased()
        let value = line[line.index(after: colon)...].trimmingWhitespace()
        responseHeaders.append(HTTPHeader(name, value))
    }

    // MARK: - Helpers

    private func set(_ option: CURLoption, _ value: Int) throws(CurlError) {
        try check(sluice_curl_easy_setopt_long(handle, option, value))
    }

    private func set(_ option: CURLoption, off value: curl_off_t) throws(CurlError) {
        try check(sluice_curl_easy_setopt_off(handle, option, value))
    }

    private func set(_ option: CURLoption, _ pointer: UnsafeRawPointer?) throws(CurlError) {
        try check(sluice_curl_easy_setopt_ptr(handle, option, pointer))
    }

    private func check(_ code: CURLcode) throws(CurlError) {
        guard code != CURLE_OK else { return }
        throw CurlError.transferFailed(code: Int32(bitPattern: code.rawValue), detail: "")
    }
}

// MARK: - Trimming

extension Substring {
    /// Without leading and trailing spaces, tabs, CR and LF (header lines end in CRLF).
    fileprivate func trimmingWhitespace() -> String {
        // `isWhitespace` also matches "\r\n", which Swift treats as one Character.
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else {
            return ""
        }
        return String(self[first...last])
    }
}
