import Crypto
import Foundation
import SluiceCore

/// Seals a job's token → value mapping with AES-GCM, and restores tokenized values in text.
///
/// The sealed mapping travels and is stored with the job; only a process holding the key
/// (the ingress that answers the job's owner) can open it, so the provider, Kafka and the
/// ledger's readers see the tokens and never the values.
public struct TokenVault: Sendable {
    /// The key's bytes: `SymmetricKey` is not `Sendable`, so one is made per use (cheap).
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// - Parameter keyHex: 64 hex digits (a 256-bit key).
    /// - Throws: ``RedactionError`` when the key is not 64 hex digits.
    public init(keyHex: String) throws(RedactionError) {
        let trimmed = keyHex.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count == 64, let bytes = Self.bytes(hex: trimmed) else {
            throw RedactionError("the tokenization key must be 64 hex digits (256 bits)")
        }
        keyBytes = bytes
    }

    /// The mapping encrypted and authenticated: nonce, ciphertext and tag in one.
    public func seal(_ mapping: [String: String], jobID: String) throws -> [UInt8] {
        let plain = JSONValue.object(mapping.mapValues { .string($0) }).serialized()
        // The job id is authenticated with it: a mapping copied onto another job does not open.
        let box = try AES.GCM.seal(plain, using: key, authenticating: Array(jobID.utf8))
        guard let combined = box.combined else { throw RedactionError("AES-GCM gave no combined box") }
        return Array(combined)
    }

    /// The mapping sealed by ``seal(_:jobID:)`` for the same job.
    ///
    /// - Throws: ``RedactionError`` when the box was not sealed with this key for this job, or
    ///   was altered.
    public func open(_ sealed: [UInt8], jobID: String) throws(RedactionError) -> [String: String] {
        let plain: Data
        do {
            plain = try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: Array(jobID.utf8))
        } catch {
            throw RedactionError("the token mapping of job \(jobID) does not open with this key")
        }
        guard case .object(let fields)? = try? JSONValue.parse(Array(plain)) else {
            throw RedactionError("the token mapping of job \(jobID) is not a JSON object")
        }
        return fields.compactMapValues(\.stringValue)
    }

    /// `text` with each token of `mapping` replaced by its value.
    public static func restore(_ text: String, mapping: [String: String]) -> String {
        guard !mapping.isEmpty, text.contains("[") else { return text }
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "[") {
            result += rest[..<open]
            if let close = rest[open...].firstIndex(of: "]"), let value = mapping[String(rest[open...close])] {
                result += value
                rest = rest[rest.index(after: close)...]
            } else {
                result += "["
                rest = rest[rest.index(after: open)...]
            }
        }
        return result + rest
    }

    /// Every string inside `value` restored (a result's `choices[].message.content`, tool call arguments…).
    public static func restore(_ value: JSONValue, mapping: [String: String]) -> JSONValue {
        guard !mapping.isEmpty else { return value }
        switch value {
        case .string(let s): return .string(restore(s, mapping: mapping))
        case .array(let a): return .array(a.map { restore($0, mapping: mapping) })
        case .object(let o): return .object(o.mapValues { restore($0, mapping: mapping) })
        default: return value
        }
    }

    private static func bytes(hex: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8
            if Bytes.isDigit(c) {
                v = c - 0x30
            } else if Bytes.isHex(c) {
                v = (c | 0x20) - 0x61 + 10
            } else {
                return nil
            }
            if let h = high {
                bytes.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return bytes
    }
}
