import Foundation
import Ingress
import Redaction
import SluiceCore

extension Wiring {
    /// The ingress's redaction, from `redaction:`; nil when the section is absent or disabled.
    ///
    /// - Throws: when a custom pattern does not compile, or the tokenization key cannot be
    ///   read or is not 64 hex digits (naming the setting).
    func redaction() throws -> IngressRedaction? {
        guard let section = configuration.redaction, section.enabled else { return nil }
        let redactor: JobRedactor
        do {
            redactor = try JobRedactor(configuration: section)
        } catch {
            throw ConfigurationError("redaction: \(error)")
        }
        return IngressRedaction(redactor: redactor, vault: try Self.tokenVault(section), logger: logger)
    }

    /// The tokenization key from `token_key_env` or `token_key_file`, or nil when neither is set.
    static func tokenVault(_ section: RedactionConfiguration) throws -> TokenVault? {
        let key: String
        if let name = section.tokenKeyEnv {
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw ConfigurationError("redaction.token_key_env: the environment variable '\(name)' is not set")
            }
            key = value
        } else if let path = section.tokenKeyFile {
            do {
                key = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigurationError("redaction.token_key_file '\(path)' cannot be read: \(error.localizedDescription)")
            }
        } else {
            return nil
        }
        do {
            return try TokenVault(keyHex: key)
        } catch {
            throw ConfigurationError("redaction: \(section.tokenKeyEnv.map { "token_key_env \($0)" } ?? "token_key_file"): \(error)")
        }
    }
}
