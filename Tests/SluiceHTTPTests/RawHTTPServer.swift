#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A loopback TCP server that answers with whatever bytes a test writes, for answers no
/// well-behaved server sends: endless bodies, headers and then silence.
///
/// Connections are served one after another on a dedicated thread (blocking socket calls stay
/// off the cooperative pool). The handler gets a ``Connection`` to write to; it should stop
/// once a write fails, which is how it learns that the client hung up.
final class RawHTTPServer: Sendable {
    /// One accepted connection.
    struct Connection {
        fileprivate let fd: Int32
        /// The request line and headers the client sent, e.g. `GET /big HTTP/1.1…`.
        let requestHead: String

        /// Sends all of `bytes`; false once the peer has closed the connection.
        func write(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes.withUnsafeBytes { buffer in
                    send(fd, buffer.baseAddress! + offset, buffer.count - offset, Self.noSignal)
                }
                guard sent > 0 else { return false }
                offset += sent
            }
            return true
        }

        func write(_ text: String) -> Bool { write(Array(text.utf8)) }

        /// Blocks until the peer closes the connection (or `timeoutMs` passes).
        func waitForClose(timeoutMs: Int32) {
            var buffer = [UInt8](repeating: 0, count: 4_096)
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            while poll(&entry, 1, timeoutMs) > 0 {
                if recv(fd, &buffer, buffer.count, 0) <= 0 { return }
            }
        }

        /// A write to a closed socket must fail with EPIPE, not kill the test process with SIGPIPE.
        #if canImport(Glibc)
        private static let noSignal = Int32(MSG_NOSIGNAL)
        #else
        private static let noSignal: Int32 = 0
        #endif
    }

    let port: Int
    private let listener: Int32
    private let done = Mutex<Bool>(false)

    /// Starts listening on a free loopback port; each connection is handed to `handler` after
    /// the request head has been read.
    init(handler: @escaping @Sendable (Connection) -> Void) throws {
        let (fd, boundPort) = try Self.boundLoopbackSocket()
        guard listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }

        listener = fd
        port = boundPort
        // The accept thread closes the listener, not `stop()`: closed while a handler runs, its
        // descriptor number went to the next test's listener, and the next `accept` here took
        // that test's connections and answered them with this handler (a 1,024-byte body where
        // a 100 MiB one or a 1,025-byte one was expected, seen twice under the parallel suite).
        let thread = Thread {
            defer { close(fd) }
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }  // the listener was shut down
                handler(Connection(fd: client, requestHead: Self.readRequestHead(client)))
                close(client)
            }
        }
        thread.name = "raw-http-server"
        thread.start()
    }

    deinit { stop() }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Stops accepting; a handler still running finishes on its own.
    func stop() {
        let first = done.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        // Wakes a blocked accept() and fails every later one; the accept thread then closes it.
        shutdown(listener, Int32(SHUT_RDWR))
    }

    /// Reads until the blank line that ends the request head (the tests send no request body).
    private static func readRequestHead(_ fd: Int32) -> String {
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while head.count <= 65_536 {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            head += buffer[0..<count]
            if head.suffix(4).elementsEqual(end) { break }
        }
        return String(decoding: head, as: UTF8.self)
    }
}

extension RawHTTPServer {
    /// A TCP socket bound to a free loopback port (not listening yet), and that port.
    static func boundLoopbackSocket() throws -> (fd: Int32, port: Int) {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw POSIXError(.EBADF) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
