/// Which jobs topic a job goes to: `p0` interactive, `p1` default, `p2` bulk.
public enum Priority: String, Codable, Sendable, CaseIterable, Comparable {
    case p0, p1, p2

    /// Accepts the topic names and the words clients use for them.
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "p0", "interactive", "high": self = .p0
        case "p1", "default", "normal": self = .p1
        case "p2", "bulk", "low", "batch": self = .p2
        default: return nil
        }
    }

    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rawValue < rhs.rawValue }
}
