/// What happens to a found value.
///
/// A struct wrapping a private enum: modes may grow (hashing, partial masks) without breaking
/// code that switches over them.
public struct RedactionMode: Hashable, Sendable, CustomStringConvertible {
    private enum Kind: String { case mask, drop, tokenize }
    private let kind: Kind

    /// Replaced by `[TYPE_n]`, numbered within a job so that the same value gets the same number.
    public static let mask = RedactionMode(kind: .mask)
    /// Removed.
    public static let drop = RedactionMode(kind: .drop)
    /// Replaced like ``mask``, and the value kept (encrypted) so the result can be restored.
    public static let tokenize = RedactionMode(kind: .tokenize)

    /// `mask`, `drop` or `tokenize`; nil for anything else.
    public init?(name: String) {
        guard let kind = Kind(rawValue: name) else { return nil }
        self.kind = kind
    }

    private init(kind: Kind) { self.kind = kind }

    public var description: String { kind.rawValue }
    public static let names = ["mask", "drop", "tokenize"]
}
