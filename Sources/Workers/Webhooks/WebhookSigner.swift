import Crypto
import Foundation
import SluiceCore

/// Signs callbacks the way the Standard Webhooks specification says, so that any of its
/// libraries (and OpenAI's `webhooks.unwrap`) can verify them.
///
/// The signed content is `{webhook-id}.{webhook-timestamp}.{body}` over the exact bytes sent;
/// the header holds one `v1,<base64 HMAC-SHA256>` per secret, separated by single spaces, so
/// that a receiver holding either the old or the new secret verifies during a rotation.
public enum WebhookSigner {
    /// The three headers of one attempt, in the order they are sent.
    public static func headers(id: String, timestampSeconds: Int64, body: [UInt8], secrets: [WebhookSecret]) -> [(String, String)] {
        [
            ("webhook-id", id),
            ("webhook-timestamp", String(timestampSeconds)),
            ("webhook-signature", signature(id: id, timestampSeconds: timestampSeconds, body: body, secrets: secrets)),
        ]
    }

    /// `v1,<sig>` for each secret, space-separated.
    public static func signature(id: String, timestampSeconds: Int64, body: [UInt8], secrets: [WebhookSecret]) -> String {
        var content = Array("\(id).\(timestampSeconds).".utf8)
        content.append(contentsOf: body)
        return secrets.map { secret in
            let mac = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: secret.key))
            return "v1," + Data(mac).base64EncodedString()
        }.joined(separator: " ")
    }
}
