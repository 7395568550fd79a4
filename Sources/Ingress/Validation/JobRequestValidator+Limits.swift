import SluiceCore

extension JobRequestValidator {
    /// Hostile-input bounds over the whole parsed body: nesting depth, string length (keys
    /// too) and message count, each a 400 naming the field, before any field is read.
    ///
    /// The parser already caps nesting at ``JSONValue/maxDepth`` and rejects invalid UTF-8 and
    /// duplicate keys; these are the tighter, configurable limits a provider call needs.
    func checkSizes(_ body: JSONValue) throws(APIError) {
        for name in ["messages", "input"] {
            if case .array(let items)? = body[name], items.count > maxMessages {
                throw .invalidRequest(
                    "'\(name)' has \(items.count) items; at most \(maxMessages) are allowed.", param: name, code: "too_many_items")
            }
        }
        try walk(body, path: "", depth: 1)
    }

    private func walk(_ value: JSONValue, path: String, depth: Int) throws(APIError) {
        switch value {
        case .string(let s):
            if s.utf8.count > maxStringBytes {
                throw .invalidRequest(
                    "'\(path)' is longer than \(maxStringBytes) bytes.", param: path.isEmpty ? nil : path, code: "string_too_long")
            }
        case .array(let items):
            guard depth <= maxJSONDepth else { throw tooDeep(path) }
            for (index, item) in items.enumerated() { try walk(item, path: "\(path)[\(index)]", depth: depth + 1) }
        case .object(let fields):
            guard depth <= maxJSONDepth else { throw tooDeep(path) }
            // In key order: the field an error names must not depend on hashing.
            for (key, item) in fields.sorted(by: { $0.key < $1.key }) {
                let at = path.isEmpty ? key : "\(path).\(key)"
                if key.utf8.count > maxStringBytes {
                    throw .invalidRequest("A key in '\(path)' is longer than \(maxStringBytes) bytes.", param: path, code: "string_too_long")
                }
                try walk(item, path: at, depth: depth + 1)
            }
        default:
            return
        }
    }

    private func tooDeep(_ path: String) -> APIError {
        .invalidRequest("'\(path)' is nested deeper than \(maxJSONDepth) levels.", param: path.isEmpty ? nil : path, code: "too_deep")
    }
}
