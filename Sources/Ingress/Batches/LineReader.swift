import Foundation

/// Reads a file line by line through a fixed buffer, so that a 200 MB JSONL input is never
/// in memory whole.
final class LineReader {
    private let handle: FileHandle
    private let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    /// One line, or a line over the limit (its bytes are skipped up to the next line break).
    enum Line {
        case line([UInt8])
        case tooLong(bytes: Int)
    }

    init(path: String, maxLineBytes: Int) throws {
        handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        self.maxLineBytes = max(1, maxLineBytes)
    }

    deinit {
        try? handle.close()
    }

    /// The next line without its line break (a trailing `\r` is dropped too), or nil at the end.
    func next() throws -> Line? {
        var skipped = 0
        while true {
            if let newline = buffer[start...].firstIndex(of: 10) {
                let lineEnd = newline > start && buffer[newline - 1] == 13 ? newline - 1 : newline
                defer { start = newline + 1 }
                if skipped > 0 { return .tooLong(bytes: skipped + newline - start) }
                guard lineEnd - start <= maxLineBytes else { return .tooLong(bytes: lineEnd - start) }
                return .line(Array(buffer[start..<lineEnd]))
            }
            if atEnd {
                guard start < buffer.count || skipped > 0 else { return nil }
                defer { start = buffer.count }
                if skipped > 0 { return .tooLong(bytes: skipped + buffer.count - start) }
                var end = buffer.count
                if end > start, buffer[end - 1] == 13 { end -= 1 }
                guard end - start <= maxLineBytes else { return .tooLong(bytes: end - start) }
                return .line(Array(buffer[start..<end]))
            }
            // No line break in what is buffered: drop what was consumed, or, for a line already
            // over the limit, the line itself, then read more.
            if buffer.count - start > maxLineBytes {
                skipped += buffer.count - start
                buffer.removeAll(keepingCapacity: true)
            } else {
                buffer.removeFirst(start)
            }
            start = 0
            let chunk = try handle.read(upToCount: 1 << 16) ?? Data()
            if chunk.isEmpty { atEnd = true } else { buffer.append(contentsOf: chunk) }
        }
    }
}
