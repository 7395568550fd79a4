import CCurl
import Synchronization

/// The libcurl multi handle: every transfer of one ``CurlHTTPClient``, driven by one thread.
///
/// The multi handle owns the keep-alive connection cache, so all requests of a client share
/// connections whichever easy handle carries them.
///
/// `@unchecked Sendable` is safe because libcurl allows exactly one call from other threads,
/// `curl_multi_wakeup`, and ``wakeup()`` makes it under `lifecycle`, which ``close()`` also
/// takes before freeing the handle. Every other method is called only by ``CurlTransferLoop``
/// on its own thread.
final class CurlMulti: @unchecked Sendable {
    /// A finished transfer: the id set with `CURLOPT_PRIVATE` and the `CURLcode`.
    struct Completion {
        var id: UInt64
        var code: Int32
        var succeeded: Bool { code == Int32(bitPattern: CURLE_OK.rawValue) }
    }

    private let handle: UnsafeMutableRawPointer
    /// `true` once the handle is freed; guards ``wakeup()`` against a freed handle.
    private let lifecycle = Mutex(false)

    /// libcurl's global setup is not safe to race with the first `curl_easy_init`; a static
    /// `let` runs it once, thread-safely.
    private static let globalInit: Int32 = Int32(bitPattern: curl_global_init(Int(CURL_GLOBAL_ALL)).rawValue)

    init(configuration: CurlHTTPClientConfiguration) throws(CurlError) {
        guard Self.globalInit == 0, let handle = curl_multi_init() else {
            throw CurlError(code: Int32(bitPattern: CURLE_FAILED_INIT.rawValue), message: "libcurl could not be initialised")
        }
        self.handle = handle
        sluice_curl_multi_setopt_long(handle, CURLMOPT_MAX_HOST_CONNECTIONS, max(1, configuration.maxConnectionsPerHost))
        sluice_curl_multi_setopt_long(handle, CURLMOPT_MAX_TOTAL_CONNECTIONS, max(1, configuration.maxTotalConnections))
        // The cache must hold every connection a steady load keeps open, or each burst
        // closes and reopens some of them.
        sluice_curl_multi_setopt_long(handle, CURLMOPT_MAXCONNECTS, max(1, configuration.maxTotalConnections))
    }

    deinit {
        close()
    }

    // MARK: - Any thread

    /// Makes a running or the next ``poll(timeoutMs:)`` return at once.
    func wakeup() {
        lifecycle.withLock { closed in
            if !closed { _ = curl_multi_wakeup(handle) }
        }
    }

    // MARK: - Loop thread only

    /// Starts `easy`'s transfer; `false` if libcurl refused it.
    func add(_ easy: CurlEasy) -> Bool {
        curl_multi_add_handle(handle, easy.handle) == CURLM_OK
    }

    /// Detaches `easy`, finished or not; an unfinished transfer is abandoned and its
    /// connection closed.
    func remove(_ easy: CurlEasy) {
        curl_multi_remove_handle(handle, easy.handle)
    }

    /// Moves every transfer as far as it can go without blocking.
    func perform() {
        var running: Int32 = 0
        curl_multi_perform(handle, &running)
    }

    /// Blocks until a socket is ready, a libcurl timer fires, ``wakeup()`` is called, or
    /// `timeoutMs` passes, whichever comes first.
    func poll(timeoutMs: Int32) {
        var ready: Int32 = 0
        curl_multi_poll(handle, nil, 0, timeoutMs, &ready)
    }

    /// The transfers that finished since the last call.
    func completions() -> [Completion] {
        var done: [Completion] = []
        var queued: Int32 = 0
        while let message = curl_multi_info_read(handle, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            var id: UnsafeMutableRawPointer?
            sluice_curl_easy_getinfo_ptr(easy, CURLINFO_PRIVATE, &id)
            let code = sluice_curl_msg_result(message)
            done.append(Completion(id: UInt64(UInt(bitPattern: id)), code: Int32(bitPattern: code.rawValue)))
        }
        return done
    }

    /// Frees the handle (and closes the cached connections). Every easy handle must have
    /// been removed first. Later calls do nothing.
    func close() {
        lifecycle.withLock { closed in
            guard !closed else { return }
            closed = true
            curl_multi_cleanup(handle)
        }
    }
}
