import SluiceCore

extension JobRedactor {
    /// The policies of `configuration`: the base for every tenant, each tenant's overrides on top.
    ///
    /// - Throws: ``RedactionError`` naming the pattern when a custom pattern does not compile
    ///   (everything else was checked with the rest of the configuration).
    public init(configuration: RedactionConfiguration) throws(RedactionError) {
        let base = try Self.policy(configuration.base, over: nil)
        var policies: [String: RedactionPolicy] = [:]
        for (tenant, rules) in configuration.tenants {
            policies[tenant] = try Self.policy(rules, over: configuration.base)
        }
        self.init(defaultPolicy: base, policies: policies)
    }

    private static func policy(_ rules: RedactionRules, over base: RedactionRules?) throws(RedactionError) -> RedactionPolicy {
        let detectors = rules.detectors ?? base?.detectors ?? RedactionRules.detectorNames
        let patternRules = (base?.customPatterns ?? []) + rules.customPatterns
        var patterns: [CustomPattern] = []
        for rule in patternRules { patterns.append(try CustomPattern(name: rule.name, pattern: rule.pattern)) }
        let modeName = rules.mode ?? base?.mode ?? "mask"
        var modes: [PIIType: RedactionMode] = [:]
        for (type, name) in (base?.modes ?? [:]).merging(rules.modes, uniquingKeysWith: { _, tenant in tenant }) {
            guard let mode = RedactionMode(name: name) else { throw RedactionError("unknown redaction mode '\(name)' for \(type)") }
            modes[PIIType(rawValue: type)] = mode
        }
        guard let defaultMode = RedactionMode(name: modeName) else { throw RedactionError("unknown redaction mode '\(modeName)'") }
        return RedactionPolicy(
            scanner: PIIScanner(
                enabled: Set(detectors.map(PIIType.init(rawValue:))), customPatterns: patterns,
                denyList: (base?.denyList ?? []) + rules.denyList),
            defaultMode: defaultMode, modes: modes,
            blockInjection: rules.blockInjection ?? base?.blockInjection ?? false
        )
    }
}
