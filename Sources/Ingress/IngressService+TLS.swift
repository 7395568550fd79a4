import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import SluiceCore

extension IngressService {
    /// Plain HTTP/1.1, or HTTPS with `ingress.tls`'s certificate chain and key (PEM).
    ///
    /// - Throws: `IngressError` naming the file that cannot be read or parsed (never its content).
    static func server(_ tls: TLSFilesConfiguration?) throws -> HTTPServerBuilder {
        guard let tls else { return .http1() }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(tls.certFile)
        } catch {
            throw IngressError("ingress.tls.cert_file '\(tls.certFile)' is not a readable PEM certificate chain")
        }
        guard !chain.isEmpty else { throw IngressError("ingress.tls.cert_file '\(tls.certFile)' holds no certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: tls.keyFile, format: .pem)
        } catch {
            throw IngressError("ingress.tls.key_file '\(tls.keyFile)' is not a readable PEM private key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return try .tls(.http1(), tlsConfiguration: configuration)
    }
}
