import Foundation
import SluiceCore
import Yams

/// Reads `sluice.yaml` and applies `SLUICE_<SECTION>_<KEY>` environment overrides.
///
/// The only place that reads files and the environment for configuration; libraries get structs.
enum ConfigurationLoader {
    static let sections: Set<String> = ["kafka", "ingress", "workers", "ledger", "cancellation", "logging", "tracing", "redaction", "webhooks"]

    /// - Parameter path: the YAML file; nil means defaults plus environment.
    static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SluiceConfiguration {
        var tree: [String: Any] = [:]
        if let path {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigurationError("cannot read config file '\(path)': \(error.localizedDescription)")
            }
            do {
                tree = try Yams.load(yaml: text) as? [String: Any] ?? [:]
            } catch {
                throw ConfigurationError("config file '\(path)' is not valid YAML: \(error)")
            }
        }
        for (name, value) in environment where name.hasPrefix("SLUICE_") {
            let rest = name.dropFirst("SLUICE_".count).lowercased()
            guard let split = rest.firstIndex(of: "_") else { continue }
            let section = String(rest[..<split])
            let key = String(rest[rest.index(after: split)...])
            guard sections.contains(section), !key.isEmpty else { continue }
            var fields = tree[section] as? [String: Any] ?? [:]
            fields[key] = scalar(value)
            tree[section] = fields
        }
        let json = try JSONSerialization.data(withJSONObject: jsonSafe(tree))
        let configuration: SluiceConfiguration
        do {
            configuration = try JSONDecoder().decode(SluiceConfiguration.self, from: json)
        } catch let error as DecodingError {
            throw ConfigurationError("config: \(describe(error))")
        }
        let problems = configuration.problems()
        guard problems.isEmpty else { throw ConfigurationError("config: " + problems.joined(separator: "; ")) }
        return configuration
    }

    /// Environment values are YAML scalars: `6000` is a number, `true` a boolean.
    private static func scalar(_ text: String) -> Any {
        if let i = Int(text) { return i }
        // `Double("inf")` and `Double("nan")` succeed; such values stay text, so that decoding
        // names the key instead of JSONSerialization failing on a non-finite number.
        if let d = Double(text), d.isFinite { return d }
        if text == "true" || text == "false" { return text == "true" }
        return text
    }

    private static func jsonSafe(_ value: Any) -> Any {
        switch value {
        case let dict as [String: Any]: return dict.mapValues(jsonSafe)
        case let array as [Any]: return array.map(jsonSafe)
        case let date as Date: return ISO8601DateFormatter().string(from: date)
        case is NSNull: return NSNull()
        case let d as Double where !d.isFinite: return "\(d)"  // YAML `.inf`/`.nan`: not JSON numbers
        case is String, is Int, is Double, is Bool: return value
        default: return "\(value)"
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
        }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context)): expected \(type)"
        case .valueNotFound(_, let context): return "\(path(context)): missing value"
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue): required"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

struct ConfigurationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
