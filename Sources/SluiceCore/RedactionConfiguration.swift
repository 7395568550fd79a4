/// PII redaction at the ingress (`redaction:`). Absent: nothing is redacted. Present: every
/// detector on, every value masked, unless it says otherwise.
///
/// ```yaml
/// redaction:
///   mode: mask                    # mask | drop | tokenize, for types without their own
///   modes: {SECRET: drop}
///   detectors: [EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN, IP_ADDRESS, SECRET]
///   custom_patterns: [{name: EMPLOYEE_ID, pattern: "EMP-[0-9]{6}"}]
///   deny_list: ["Project Bluebird"]
///   block_injection: false
///   token_key_env: SLUICE_TOKEN_KEY    # 64 hex digits, needed when anything is tokenized
///   tenants:
///     acme: {modes: {EMAIL: tokenize}, block_injection: true}
/// ```
public struct RedactionConfiguration: Sendable, Decodable {
    /// Default: true (when the section is present).
    public var enabled: Bool
    /// The settings every tenant starts from.
    public var base: RedactionRules
    /// A tenant's settings on top of ``base``: its modes replace the base's type by type, its
    /// patterns and deny-list terms are added, its `mode`, `detectors` and `block_injection`
    /// replace the base's when set. Default: none.
    public var tenants: [String: RedactionRules]
    /// Name of the environment variable holding the tokenization key (64 hex digits). Default: none.
    public var tokenKeyEnv: String?
    /// A file holding the tokenization key (a mounted secret). Default: none.
    public var tokenKeyFile: String?

    /// The most custom patterns and deny-list terms, and the longest of each: a config typo
    /// cannot make every request scan for a megabyte of patterns.
    public static let maxEntries = 256
    public static let maxEntryLength = 1_024

    public init(enabled: Bool = true, base: RedactionRules = .init(), tenants: [String: RedactionRules] = [:]) {
        self.enabled = enabled
        self.base = base
        self.tenants = tenants
    }

    enum CodingKeys: String, CodingKey {
        case enabled, tenants, tokenKeyEnv = "token_key_env", tokenKeyFile = "token_key_file"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        tenants = try c.decodeIfPresent([String: RedactionRules].self, forKey: .tenants) ?? [:]
        tokenKeyEnv = try c.decodeIfPresent(String.self, forKey: .tokenKeyEnv)
        tokenKeyFile = try c.decodeIfPresent(String.self, forKey: .tokenKeyFile)
        base = try RedactionRules(from: decoder)
    }

    /// Problems with the section, one sentence each naming the key.
    public func problems() -> [String] {
        var problems = base.problems(key: "redaction")
        for (tenant, rules) in tenants.sorted(by: { $0.key < $1.key }) {
            problems += rules.problems(key: "redaction.tenants.\(tenant)")
        }
        if tokenKeyEnv != nil && tokenKeyFile != nil {
            problems.append("redaction: set only one of token_key_env and token_key_file")
        }
        let tokenizes = ([base] + Array(tenants.values)).contains { rules in
            rules.mode == "tokenize" || rules.modes.values.contains("tokenize")
        }
        if enabled && tokenizes && tokenKeyEnv == nil && tokenKeyFile == nil {
            problems.append("redaction: tokenize needs a key: set token_key_env or token_key_file")
        }
        return problems
    }
}

/// One level of redaction settings: the base, or a tenant's overrides.
public struct RedactionRules: Sendable, Decodable {
    /// The built-in detector names.
    public static let detectorNames = ["EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS", "SECRET"]
    public static let modeNames: Set<String> = ["mask", "drop", "tokenize"]

    /// `mask`, `drop` or `tokenize` for types without their own. Default: mask (base), inherited (tenant).
    public var mode: String?
    /// Type name → mode. Default: none.
    public var modes: [String: String]
    /// The built-in detectors to run. Default: all (base), inherited (tenant).
    public var detectors: [String]?
    public var customPatterns: [CustomPatternConfiguration]
    /// Literal terms to redact (ignoring ASCII case), reported as `DENY_LIST`. Default: none.
    public var denyList: [String]
    /// Refuse (400) a job raising a prompt-injection flag. Default: false (base), inherited (tenant).
    public var blockInjection: Bool?

    public init(
        mode: String? = nil, modes: [String: String] = [:], detectors: [String]? = nil,
        customPatterns: [CustomPatternConfiguration] = [], denyList: [String] = [], blockInjection: Bool? = nil
    ) {
        self.mode = mode
        self.modes = modes
        self.detectors = detectors
        self.customPatterns = customPatterns
        self.denyList = denyList
        self.blockInjection = blockInjection
    }

    enum CodingKeys: String, CodingKey {
        case mode, modes, detectors, customPatterns = "custom_patterns", denyList = "deny_list", blockInjection = "block_injection"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decodeIfPresent(String.self, forKey: .mode)
        modes = try c.decodeIfPresent([String: String].self, forKey: .modes) ?? [:]
        detectors = try c.decodeIfPresent([String].self, forKey: .detectors)
        customPatterns = try c.decodeIfPresent([CustomPatternConfiguration].self, forKey: .customPatterns) ?? []
        denyList = try c.decodeIfPresent([String].self, forKey: .denyList) ?? []
        blockInjection = try c.decodeIfPresent(Bool.self, forKey: .blockInjection)
    }

    func problems(key: String) -> [String] {
        var problems: [String] = []
        let modeList = Self.modeNames.sorted().joined(separator: ", ")
        if let mode, !Self.modeNames.contains(mode) { problems.append("\(key).mode '\(mode)' is not one of \(modeList)") }
        for (type, mode) in modes.sorted(by: { $0.key < $1.key }) where !Self.modeNames.contains(mode) {
            problems.append("\(key).modes.\(type) '\(mode)' is not one of \(modeList)")
        }
        for name in detectors ?? [] where !Self.detectorNames.contains(name) {
            problems.append("\(key).detectors: '\(name)' is not one of \(Self.detectorNames.joined(separator: ", "))")
        }
        let limit = RedactionConfiguration.maxEntries
        if customPatterns.count > limit { problems.append("\(key).custom_patterns may have at most \(limit) entries, got \(customPatterns.count)") }
        if denyList.count > limit { problems.append("\(key).deny_list may have at most \(limit) entries, got \(denyList.count)") }
        let length = RedactionConfiguration.maxEntryLength
        for (index, pattern) in customPatterns.enumerated() {
            let at = "\(key).custom_patterns[\(index)]"
            if pattern.pattern.isEmpty || pattern.pattern.utf8.count > length {
                problems.append("\(at).pattern must be 1 to \(length) bytes long, got \(pattern.pattern.utf8.count)")
            }
            let nameOK = !pattern.name.isEmpty && pattern.name.utf8.count <= 64
                && pattern.name.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
            if !nameOK { problems.append("\(at).name '\(pattern.name)' must be 1 to 64 of A-Z, 0-9 and _") }
        }
        for (index, term) in denyList.enumerated() where term.isEmpty || term.utf8.count > length {
            problems.append("\(key).deny_list[\(index)] must be 1 to \(length) bytes long, got \(term.utf8.count)")
        }
        return problems
    }
}

/// A tenant's own pattern (`custom_patterns:`): a regular expression (ICU syntax) and the
/// upper-case name its matches are reported and masked under.
public struct CustomPatternConfiguration: Sendable, Decodable {
    public var name: String
    public var pattern: String

    public init(name: String, pattern: String) {
        self.name = name
        self.pattern = pattern
    }
}
