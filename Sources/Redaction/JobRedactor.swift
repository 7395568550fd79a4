import SluiceCore

/// Redacts every text field of a chat-completions request that a provider would read, and
/// raises prompt-injection flags on them.
///
/// Covered: `messages[].content` (a string, or the `text` of each content part),
/// `messages[].tool_calls[].function.arguments`, the legacy `function_call.arguments`, and a
/// top-level `system` or `instructions` (Anthropic- and Responses-style bodies passed through).
/// Other fields (model, parameters, tool schemas) are the application's, not the user's.
public struct JobRedactor: Sendable {
    public struct Outcome: Sendable {
        /// The request with every covered text redacted.
        public var request: JSONValue
        public var counts: [PIIType: Int]
        /// Each raised flag with the field (`messages[2].content`) that raised it, in field order.
        public var flags: [(field: String, flag: InjectionDetector.Flag)]
        /// Token → value for tokenized types; empty when nothing was tokenized.
        public var vault: [String: String]

        /// `{"redactions": {"EMAIL": 2}, "injection_flags": [{"field", "flag"}]}`: kinds, counts
        /// and fields, never a value. Empty when nothing was found.
        public var auditDetail: [String: JSONValue] {
            var detail: [String: JSONValue] = [:]
            if !counts.isEmpty {
                detail["redactions"] = .object(Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, .int(Int64($0.value))) }))
            }
            if !flags.isEmpty {
                detail["injection_flags"] = .array(flags.map { JSONValue.object(["field": .string($0.field), "flag": .string($0.flag.rawValue)]) })
            }
            return detail
        }
    }

    /// The policy of each tenant that has its own; others get ``defaultPolicy``.
    public let policies: [String: RedactionPolicy]
    public let defaultPolicy: RedactionPolicy

    public init(defaultPolicy: RedactionPolicy, policies: [String: RedactionPolicy] = [:]) {
        self.defaultPolicy = defaultPolicy
        self.policies = policies
    }

    public func policy(tenant: String) -> RedactionPolicy { policies[tenant] ?? defaultPolicy }

    /// `request` redacted under `tenant`'s policy.
    public func redact(_ request: JSONValue, tenant: String) -> Outcome {
        var walker = Walker(redaction: Redaction(policy: policy(tenant: tenant)))
        let redacted = walker.request(request)
        return Outcome(request: redacted, counts: walker.redaction.counts, flags: walker.flags, vault: walker.redaction.vault)
    }

    private struct Walker {
        var redaction: Redaction
        var flags: [(field: String, flag: InjectionDetector.Flag)] = []

        mutating func text(_ value: String, field: @autoclosure () -> String) -> String {
            let raised = InjectionDetector.flags(in: value)
            if !raised.isEmpty {
                let name = field()
                flags += raised.map { (name, $0) }
            }
            return redaction.redact(value)
        }

        mutating func request(_ request: JSONValue) -> JSONValue {
            guard case .object(var fields) = request else { return request }
            if case .array(var messages)? = fields["messages"] {
                for index in messages.indices {
                    messages[index] = message(messages[index], field: "messages[\(index)]")
                }
                fields["messages"] = .array(messages)
            }
            for key in ["system", "instructions"] {
                if let value = fields[key] { fields[key] = content(value, field: key) }
            }
            return .object(fields)
        }

        mutating func message(_ message: JSONValue, field: String) -> JSONValue {
            guard case .object(var m) = message else { return message }
            if let content = m["content"] { m["content"] = self.content(content, field: field + ".content") }
            if case .array(var calls)? = m["tool_calls"] {
                for index in calls.indices {
                    calls[index] = toolCall(calls[index], field: "\(field).tool_calls[\(index)].function.arguments")
                }
                m["tool_calls"] = .array(calls)
            }
            if case .object(var call)? = m["function_call"], case .string(let arguments)? = call["arguments"] {
                call["arguments"] = .string(text(arguments, field: field + ".function_call.arguments"))
                m["function_call"] = .object(call)
            }
            return .object(m)
        }

        mutating func toolCall(_ call: JSONValue, field: String) -> JSONValue {
            guard case .object(var c) = call, case .object(var function)? = c["function"],
                case .string(let arguments)? = function["arguments"]
            else { return call }
            function["arguments"] = .string(text(arguments, field: field))
            c["function"] = .object(function)
            return .object(c)
        }

        /// A string, or content parts whose `text` is redacted (images and audio pass as they are).
        mutating func content(_ content: JSONValue, field: String) -> JSONValue {
            switch content {
            case .string(let s):
                return .string(text(s, field: field))
            case .array(var parts):
                for index in parts.indices {
                    guard case .object(var part) = parts[index], case .string(let s)? = part["text"] else { continue }
                    part["text"] = .string(text(s, field: "\(field)[\(index)].text"))
                    parts[index] = .object(part)
                }
                return .array(parts)
            default:
                return content
            }
        }
    }
}
