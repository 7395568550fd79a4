#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Random numbers from the kernel's CSPRNG (through glibc's `arc4random_buf`), fetched 4 KiB at a time.
///
/// `SystemRandomNumberGenerator` asks the kernel (`getrandom`) for every 8 bytes. Every accepted
/// job draws ids (job id, trace id, span ids) several times, and `perf` showed those syscalls in
/// the ingress profile. One `getrandom` per 512 draws keeps the same source and quality (ids
/// stay unguessable) without a syscall per id.
public struct BufferedRandom: RandomNumberGenerator, Sendable {
    private struct Pool: ~Copyable {
        var words = [UInt64](repeating: 0, count: 512)
        var next = 512

        mutating func draw() -> UInt64 {
            if next == words.count {
                refill()
                next = 0
            }
            defer { next += 1 }
            return words[next]
        }

        private mutating func refill() {
            #if canImport(Glibc)
            // glibc's arc4random_buf reads the kernel's getrandom; one call fills the pool.
            words.withUnsafeMutableBytes { buffer in
                if let base = buffer.baseAddress { arc4random_buf(base, buffer.count) }
            }
            return
            #else
            var system = SystemRandomNumberGenerator()
            for i in words.indices { words[i] = system.next() }
            #endif
        }
    }

    private static let pool = Mutex(Pool())

    public init() {}

    public mutating func next() -> UInt64 {
        Self.pool.withLock { $0.draw() }
    }
}
