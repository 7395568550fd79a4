/// One HTTP header field, as a request sends it or a response received it.
///
/// A struct rather than a `(String, String)` tuple so that requests and responses can be
/// `Equatable` and `Hashable` and read well at call sites (`HTTPHeader("Authorization", "Bearer …")`).
/// Order and repetition are kept: HTTP allows a name more than once.
public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

// MARK: - Lookup

extension Array where Element == HTTPHeader {
    /// The value of the first header called `name`, compared case-insensitively (RFC 9110 §5.1).
    public func first(named name: String) -> String? {
        let wanted = name.lowercased()
        return first { $0.name.lowercased() == wanted }?.value
    }
}
