import SluiceCore

/// The OpenAI chat-completion parameters Sluice knows, checked at the door.
///
/// A job that a provider would reject for a bad `temperature` should fail now with a 400 naming
/// the field, not minutes later after waiting in the queue; and numbers a client sends are
/// range-checked before anything converts them. The ranges are OpenAI's documented ones. Other
/// fields pass through untouched; `null` means "not sent", as it does for OpenAI.
extension JobRequestValidator {
    static let maxStopSequences = 4
    static let maxLogitBiasEntries = 300

    func validateParameters(_ fields: [String: JSONValue]) throws(APIError) {
        for name in ["max_tokens", "max_completion_tokens"] {
            if let value = present(fields[name]) { try integer(value, param: name, in: 1...maxOutputTokens) }
        }
        if let value = present(fields["n"]) { try integer(value, param: "n", in: 1...128) }
        if let value = present(fields["seed"]) { try integer(value, param: "seed", in: Int64.min...Int64.max) }
        if let value = present(fields["temperature"]) { try number(value, param: "temperature", in: 0...2) }
        if let value = present(fields["top_p"]) { try number(value, param: "top_p", in: 0...1) }
        for name in ["presence_penalty", "frequency_penalty"] {
            if let value = present(fields[name]) { try number(value, param: name, in: -2...2) }
        }
        if let value = present(fields["stop"]) { try validateStop(value) }
        if let value = present(fields["logit_bias"]) { try validateLogitBias(value) }
    }

    // MARK: - Kinds of parameter

    private func present(_ value: JSONValue?) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        return value
    }

    /// An integer in `range`. `3.0` counts as 3; `3.5`, and numbers beyond Int64 (which the
    /// reader keeps as doubles), are refused rather than rounded or clamped.
    private func integer(_ value: JSONValue, param: String, in range: ClosedRange<Int64>) throws(APIError) {
        let integer: Int64
        switch value {
        case .int(let i):
            integer = i
        case .double(let d):
            guard let exact = Int64(exactly: d) else {
                throw .invalidRequest("'\(param)' must be an integer between \(range.lowerBound) and \(range.upperBound), not \(d).", param: param)
            }
            integer = exact
        default:
            throw .invalidRequest("'\(param)' must be an integer, not \(value.typeName).", param: param, code: "invalid_type")
        }
        guard range.contains(integer) else {
            throw .invalidRequest("'\(param)' must be between \(range.lowerBound) and \(range.upperBound), not \(integer).", param: param)
        }
    }

    /// A number in `range` (the reader never produces inf or nan, so comparisons are sound).
    private func number(_ value: JSONValue, param: String, in range: ClosedRange<Double>) throws(APIError) {
        let number: Double
        switch value {
        case .int(let i): number = Double(i)
        case .double(let d): number = d
        default: throw .invalidRequest("'\(param)' must be a number, not \(value.typeName).", param: param, code: "invalid_type")
        }
        guard number.isFinite, range.contains(number) else {
            throw .invalidRequest("'\(param)' must be between \(range.lowerBound) and \(range.upperBound), not \(number).", param: param)
        }
    }

    private func validateStop(_ value: JSONValue) throws(APIError) {
        switch value {
        case .string:
            return
        case .array(let items):
            guard items.count <= Self.maxStopSequences else {
                throw .invalidRequest("'stop' may hold at most \(Self.maxStopSequences) sequences, not \(items.count).", param: "stop")
            }
            for (i, item) in items.enumerated() {
                guard case .string = item else {
                    throw .invalidRequest("'stop[\(i)]' must be a string, not \(item.typeName).", param: "stop[\(i)]", code: "invalid_type")
                }
            }
        default:
            throw .invalidRequest("'stop' must be a string or an array of strings, not \(value.typeName).", param: "stop", code: "invalid_type")
        }
    }

    private func validateLogitBias(_ value: JSONValue) throws(APIError) {
        guard case .object(let entries) = value else {
            throw .invalidRequest("'logit_bias' must be an object of token id to bias, not \(value.typeName).", param: "logit_bias", code: "invalid_type")
        }
        guard entries.count <= Self.maxLogitBiasEntries else {
            throw .invalidRequest("'logit_bias' may have at most \(Self.maxLogitBiasEntries) entries, not \(entries.count).", param: "logit_bias")
        }
        // Sorted so that the same body always names the same entry.
        for (key, bias) in entries.sorted(by: { $0.key < $1.key }) {
            let param = "logit_bias.\(key)"
            guard !key.isEmpty, key.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), Int64(key) != nil else {
                throw .invalidRequest("'logit_bias' keys must be integer token ids; '\(key)' is not.", param: param)
            }
            try number(bias, param: param, in: -100...100)
        }
    }
}
