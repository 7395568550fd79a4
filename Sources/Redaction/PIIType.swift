/// What a found value is: one of the built-in detectors' types, or a tenant's own pattern name.
///
/// A struct rather than an enum: tenants name their own patterns (`EMPLOYEE_ID`), and those
/// names appear in masks (`[EMPLOYEE_ID_1]`), audit counts and `sluice redact` output alike.
public struct PIIType: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (lhs: PIIType, rhs: PIIType) -> Bool { lhs.rawValue < rhs.rawValue }

    public static let email = PIIType(rawValue: "EMAIL")
    public static let phone = PIIType(rawValue: "PHONE")
    public static let creditCard = PIIType(rawValue: "CREDIT_CARD")
    public static let iban = PIIType(rawValue: "IBAN")
    public static let usSSN = PIIType(rawValue: "US_SSN")
    public static let ipAddress = PIIType(rawValue: "IP_ADDRESS")
    public static let secret = PIIType(rawValue: "SECRET")
    /// A term of a tenant's deny-list.
    public static let denyList = PIIType(rawValue: "DENY_LIST")

    /// The hand-written detectors, in the order their names are documented.
    public static let builtIn: [PIIType] = [.email, .phone, .creditCard, .iban, .usSSN, .ipAddress, .secret]
}

/// One value found in a text: its UTF-8 byte offsets (half-open) and its type.
public struct PIIMatch: Sendable, Equatable {
    public var range: Range<Int>
    public var type: PIIType

    public init(range: Range<Int>, type: PIIType) {
        self.range = range
        self.type = type
    }
}
