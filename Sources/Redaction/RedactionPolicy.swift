/// How one tenant's text is redacted: which detectors, which mode for each, and whether
/// prompt-injection flags block a job.
public struct RedactionPolicy: Sendable {
    public var scanner: PIIScanner
    /// The mode of types without their own entry in ``modes``. Default: mask.
    public var defaultMode: RedactionMode
    public var modes: [PIIType: RedactionMode]
    /// A job with a prompt-injection flag is refused (400) instead of only flagged.
    public var blockInjection: Bool

    public init(
        scanner: PIIScanner = PIIScanner(), defaultMode: RedactionMode = .mask, modes: [PIIType: RedactionMode] = [:],
        blockInjection: Bool = false
    ) {
        self.scanner = scanner
        self.defaultMode = defaultMode
        self.modes = modes
        self.blockInjection = blockInjection
    }

    public func mode(for type: PIIType) -> RedactionMode { modes[type] ?? defaultMode }

    /// Whether any type is tokenized (then a vault key is needed).
    public var tokenizes: Bool { defaultMode == .tokenize || modes.values.contains(.tokenize) }
}
