import Foundation

/// A streaming `multipart/form-data` parser (RFC 7578): bytes go in as they arrive, events
/// come out, and a part's body is never gathered whole, so a 200 MB upload streams to disk.
///
/// The parser holds back at most one delimiter's length of a part's bytes (a delimiter may
/// be split across two chunks) and at most ``maxHeaderBytes`` of a part's header block.
struct MultipartParser {
    /// What the bytes fed so far contained, in order.
    enum Event: Equatable {
        /// A part starts; header names are lowercased.
        case partStart(headers: [String: String])
        /// Some bytes of the current part's body.
        case body([UInt8])
        /// The current part ended.
        case partEnd
    }

    struct ParseError: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    /// Longest header block of one part.
    static let maxHeaderBytes = 16 * 1024

    private enum State {
        case preamble
        case afterDelimiter
        case headers
        case body
        case done
    }

    private let delimiter: [UInt8]
    private var buffer: [UInt8]
    private var state = State.preamble

    /// - Parameter boundary: The `boundary` parameter of the request's Content-Type.
    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter may open the body without a line break before it.
        buffer = [13, 10]
    }

    /// Whether the closing delimiter has been seen.
    var isFinished: Bool { if case .done = state { true } else { false } }

    /// The `boundary` parameter of a `multipart/form-data` Content-Type, or nil.
    static func boundary(contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = parts.first, first.lowercased() == "multipart/form-data" else { return nil }
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            guard (1...70).contains(value.utf8.count) else { return nil }
            return value
        }
        return nil
    }

    /// Feeds the next bytes; returns the events they complete.
    ///
    /// - Throws: ``ParseError`` for a header block that is too long or malformed.
    mutating func feed(_ bytes: some Collection<UInt8>) throws(ParseError) -> [Event] {
        guard !isFinished else { return [] }
        buffer.append(contentsOf: bytes)
        var events: [Event] = []
        var start = 0
        loop: while true {
            switch state {
            case .preamble, .body:
                if let at = find(delimiter, from: start) {
                    if case .body = state {
                        if at > start { events.append(.body(Array(buffer[start..<at]))) }
                        events.append(.partEnd)
                    }
                    start = at + delimiter.count
                    state = .afterDelimiter
                } else {
                    // Keep what could be the start of a delimiter split across chunks.
                    let safe = max(start, buffer.count - (delimiter.count - 1))
                    if case .body = state, safe > start { events.append(.body(Array(buffer[start..<safe]))) }
                    start = safe
                    break loop
                }
            case .afterDelimiter:
                guard buffer.count - start >= 2 else { break loop }
                if buffer[start] == UInt8(ascii: "-"), buffer[start + 1] == UInt8(ascii: "-") {
                    state = .done
                    start = buffer.count
                    break loop
                }
                // Transport padding (spaces, tabs) may follow a delimiter before its line break.
                if buffer[start] == UInt8(ascii: " ") || buffer[start] == UInt8(ascii: "\t") {
                    start += 1
                    continue
                }
                guard buffer[start] == 13, buffer[start + 1] == 10 else {
                    throw ParseError(description: "a multipart delimiter is not followed by a line break")
                }
                start += 2
                state = .headers
            case .headers:
                guard buffer.count - start >= 2 else { break loop }
                // A part with no headers has its blank line right away.
                if buffer[start] == 13, buffer[start + 1] == 10 {
                    events.append(.partStart(headers: [:]))
                    start += 2
                    state = .body
                    continue
                }
                guard let end = find([13, 10, 13, 10], from: start) else {
                    guard buffer.count - start <= Self.maxHeaderBytes else {
                        throw ParseError(description: "a multipart part's headers exceed \(Self.maxHeaderBytes) bytes")
                    }
                    break loop
                }
                events.append(.partStart(headers: try Self.headers(Array(buffer[start..<end]))))
                start = end + 4
                state = .body
            case .done:
                start = buffer.count
                break loop
            }
        }
        buffer.removeFirst(start)
        return events
    }

    /// Says the input ended.
    ///
    /// - Throws: ``ParseError`` when the closing delimiter never came.
    func finish() throws(ParseError) {
        guard isFinished else { throw ParseError(description: "the multipart body ended before its closing delimiter") }
    }

    private func find(_ needle: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, buffer.count - from >= needle.count else { return nil }
        var i = from
        let last = buffer.count - needle.count
        while i <= last {
            guard let hit = buffer[i...last].firstIndex(of: first) else { return nil }
            var matches = true
            for k in 1..<needle.count where buffer[hit + k] != needle[k] {
                matches = false
                break
            }
            if matches { return hit }
            i = hit + 1
        }
        return nil
    }

    private static func headers(_ block: [UInt8]) throws(ParseError) -> [String: String] {
        var headers: [String: String] = [:]
        let text = String(decoding: block, as: UTF8.self)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else {
                throw ParseError(description: "a multipart header line has no ':'")
            }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return headers
    }

    /// The parameters of a `Content-Disposition: form-data; name="…"; filename="…"` value.
    static func dispositionParameters(_ value: String) -> [String: String] {
        var parameters: [String: String] = [:]
        var rest = Substring(value)
        // Skip the disposition type.
        guard let semicolon = rest.firstIndex(of: ";") else { return [:] }
        rest = rest[rest.index(after: semicolon)...]
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == ";" }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var parsed = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                var end = rest.endIndex
                for index in rest.indices {
                    let c = rest[index]
                    if escaped {
                        parsed.append(c)
                        escaped = false
                    } else if c == "\\" {
                        escaped = true
                    } else if c == "\"" {
                        end = index
                        break
                    } else {
                        parsed.append(c)
                    }
                }
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : ""
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                parsed = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            parameters[name] = parsed
        }
        return parameters
    }
}
