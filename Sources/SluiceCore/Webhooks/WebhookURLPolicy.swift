import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decides whether Sluice may POST to a webhook URL: the guard against server-side request
/// forgery through callbacks.
///
/// A webhook URL is chosen by a client, and the webhook worker calls it from inside the
/// deployment's network, so an unchecked URL would let any tenant reach the cloud metadata
/// service, the broker, or an admin port on loopback. By default only `https` URLs whose host
/// is, and resolves to, a public address are accepted; `webhooks.allow_hosts`,
/// `webhooks.allow_cidrs` and `webhooks.allow_http` (globally or per tenant) open exceptions.
///
/// The check runs on the literal host and on every address the resolver returns, at submit
/// time and again just before each delivery: a name that resolved to a public address when
/// the job was accepted may point at 127.0.0.1 by the time the callback goes out (DNS
/// rebinding).
public struct WebhookURLPolicy: Sendable {
    /// Turns a host name into addresses. Injected so that tests can resolve names without DNS.
    public struct Resolver: Sendable {
        let resolve: @Sendable (String) async throws(WebhookURLRefusal) -> [IPAddress]

        public init(_ resolve: @escaping @Sendable (String) async throws(WebhookURLRefusal) -> [IPAddress]) {
            self.resolve = resolve
        }

        /// `getaddrinfo` (so `/etc/hosts` counts), run off the cooperative thread pool because it
        /// blocks for as long as DNS takes.
        public static let system = Resolver { host throws(WebhookURLRefusal) in
            let outcome: Result<[IPAddress], WebhookURLRefusal> = await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(returning: WebhookURLPolicy.getaddrinfo(host))
                }
            }
            return try outcome.get()
        }

        /// A fixed table, for tests: names not in it do not resolve.
        public static func table(_ entries: [String: [String]]) -> Resolver {
            Resolver { host throws(WebhookURLRefusal) in
                guard let texts = entries[host.lowercased()] else {
                    throw WebhookURLRefusal("'\(host)' does not resolve")
                }
                return texts.compactMap { IPAddress($0) }
            }
        }
    }

    /// The ranges no webhook may reach unless allowlisted: loopback, private, shared (CGNAT),
    /// link-local (where cloud metadata lives), unspecified, multicast and reserved space.
    public static let deniedNetworks: [IPNetwork] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "100::/64",
    ].compactMap { IPNetwork($0) }

    private let rules: WebhookAllowRules
    private let resolver: Resolver

    public init(rules: WebhookAllowRules, resolver: Resolver = .system) {
        self.rules = rules
        self.resolver = resolver
    }

    /// Checks `url` for `tenant` (whose own allowlist adds to the global one).
    ///
    /// - Returns: the URL's parts and the addresses it resolved to.
    /// - Throws: ``WebhookURLRefusal`` with a sentence a client can act on.
    @discardableResult
    public func check(_ url: String, tenant: String? = nil) async throws(WebhookURLRefusal) -> WebhookTarget {
        let rules = self.rules.merged(for: tenant)
        let target = try WebhookTarget(parsing: url)
        if target.scheme == "http", !rules.allowHTTP {
            throw WebhookURLRefusal("must use https (plain http is allowed only by webhooks.allow_http)")
        }
        if rules.allowHosts.contains(target.host.lowercased()) { return target }
        let addresses: [IPAddress]
        if let literal = IPAddress(target.host) {
            addresses = [literal]
        } else {
            addresses = try await resolver.resolve(target.host)
            guard !addresses.isEmpty else { throw WebhookURLRefusal("'\(target.host)' resolves to no address") }
        }
        for address in addresses where !rules.permits(address) {
            if address.description == target.host {
                throw WebhookURLRefusal("'\(target.host)' is a \(Self.kind(of: address)) address")
            }
            throw WebhookURLRefusal("'\(target.host)' resolves to \(address), a \(Self.kind(of: address)) address")
        }
        var resolved = target
        resolved.addresses = addresses
        return resolved
    }

    /// Whether `address` lies in a denied range, also through the IPv4 address an IPv6 form
    /// carries.
    public static func isDenied(_ address: IPAddress) -> Bool {
        if deniedNetworks.contains(where: { $0.contains(address) }) { return true }
        if let inner = address.embeddedIPv4 { return deniedNetworks.contains { $0.contains(inner) } }
        return false
    }

    static func kind(of address: IPAddress) -> String {
        let a = address.embeddedIPv4 ?? address
        func within(_ cidr: String) -> Bool { IPNetwork(cidr)?.contains(a) ?? false }
        if within("127.0.0.0/8") || within("::1/128") { return "loopback" }
        if within("169.254.169.254/32") || within("fd00:ec2::254/128") { return "cloud metadata" }
        if within("169.254.0.0/16") || within("fe80::/10") { return "link-local" }
        if within("0.0.0.0/8") || within("::/128") { return "unspecified" }
        if within("100.64.0.0/10") { return "shared (CGNAT)" }
        if within("10.0.0.0/8") || within("172.16.0.0/12") || within("192.168.0.0/16") || within("fc00::/7") { return "private" }
        return "reserved"
    }

    /// The addresses of `host` from the system resolver (hosts file, then DNS).
    static func getaddrinfo(_ host: String) -> Result<[IPAddress], WebhookURLRefusal> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        #if canImport(Glibc)
        let status = Glibc.getaddrinfo(host, nil, &hints, &list)
        #else
        let status = Darwin.getaddrinfo(host, nil, &hints, &list)
        #endif
        guard status == 0, let first = list else {
            return .failure(WebhookURLRefusal("'\(host)' does not resolve"))
        }
        defer { freeaddrinfo(first) }
        var addresses: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let sockaddr = entry.pointee.ai_addr {
                switch Int32(entry.pointee.ai_family) {
                case AF_INET:
                    var v4 = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    if let a = IPAddress(bytes: withUnsafeBytes(of: &v4) { Array($0) }) { addresses.append(a) }
                case AF_INET6:
                    var v6 = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    if let a = IPAddress(bytes: withUnsafeBytes(of: &v6) { Array($0) }) { addresses.append(a) }
                default:
                    break
                }
            }
            cursor = entry.pointee.ai_next
        }
        var seen = Set<IPAddress>()
        return .success(addresses.filter { seen.insert($0).inserted })
    }
}

/// The exceptions to ``WebhookURLPolicy``'s defaults.
public struct WebhookAllowRules: Sendable, Equatable {
    /// Host names (lowercased) accepted whatever they resolve to.
    public var allowHosts: Set<String>
    /// Ranges accepted even though they are denied by default.
    public var allowNetworks: [IPNetwork]
    /// Plain `http` URLs accepted.
    public var allowHTTP: Bool
    /// A tenant's own exceptions, added to the global ones for its URLs.
    public var tenants: [String: WebhookAllowRules]

    public init(allowHosts: Set<String> = [], allowNetworks: [IPNetwork] = [], allowHTTP: Bool = false, tenants: [String: WebhookAllowRules] = [:]) {
        self.allowHosts = Set(allowHosts.map { $0.lowercased() })
        self.allowNetworks = allowNetworks
        self.allowHTTP = allowHTTP
        self.tenants = tenants
    }

    func merged(for tenant: String?) -> WebhookAllowRules {
        guard let tenant, let own = tenants[tenant] else { return self }
        return WebhookAllowRules(
            allowHosts: allowHosts.union(own.allowHosts), allowNetworks: allowNetworks + own.allowNetworks,
            allowHTTP: allowHTTP || own.allowHTTP)
    }

    func permits(_ address: IPAddress) -> Bool {
        guard WebhookURLPolicy.isDenied(address) else { return true }
        return allowNetworks.contains { $0.contains(address) || (address.embeddedIPv4.map($0.contains) ?? false) }
    }
}

/// A webhook URL taken apart: what the policy checked and the worker calls.
public struct WebhookTarget: Sendable, Equatable {
    /// `https` or `http`, lowercased.
    public var scheme: String
    /// Without brackets for IPv6 literals.
    public var host: String
    public var port: Int?
    /// The addresses the host resolved to when checked (empty for allowlisted hosts).
    public var addresses: [IPAddress] = []

    /// Longest URL accepted, in bytes.
    public static let maxURLBytes = 2_048

    /// Parses `scheme://host[:port][/path][?query]`; user info, fragments and whitespace are refused.
    public init(parsing url: String) throws(WebhookURLRefusal) {
        guard url.utf8.count <= Self.maxURLBytes else { throw WebhookURLRefusal("is longer than \(Self.maxURLBytes) bytes") }
        guard url.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value != 0x7f }) else {
            throw WebhookURLRefusal("must be an ASCII URL without spaces or control characters")
        }
        guard let separator = url.range(of: "://") else { throw WebhookURLRefusal("must be an absolute https URL") }
        let scheme = url[..<separator.lowerBound].lowercased()
        guard scheme == "https" || scheme == "http" else { throw WebhookURLRefusal("must be an absolute https URL") }
        let rest = url[separator.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !url.contains("#") else { throw WebhookURLRefusal("must not have a fragment") }
        guard !authority.contains("@") else { throw WebhookURLRefusal("must not carry user credentials") }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw WebhookURLRefusal("has an unclosed IPv6 literal") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw WebhookURLRefusal("has a malformed host") }
                portText = after.dropFirst()
            }
            guard IPAddress(host)?.isIPv4 == false else { throw WebhookURLRefusal("has a malformed IPv6 literal") }
        } else {
            let pieces = authority.split(separator: ":", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw WebhookURLRefusal("has a malformed host") }
            host = pieces[0]
            if pieces.count == 2 { portText = pieces[1] }
        }
        // A trailing dot names the same host; dropping it keeps allowlist matches exact.
        if host.hasSuffix("."), !host.hasPrefix("[") { host = host.dropLast() }
        guard !host.isEmpty, host.utf8.count <= 253 else { throw WebhookURLRefusal("must name a host") }
        if let portText {
            guard portText.count <= 5, let port = Int(portText), (1...65_535).contains(port) else {
                throw WebhookURLRefusal("has a port outside 1-65535")
            }
            self.port = port
        }
        self.scheme = scheme
        self.host = String(host).lowercased()
    }
}

/// Why a webhook URL is refused, as the end of a sentence starting "'webhook.url' ...".
public struct WebhookURLRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
