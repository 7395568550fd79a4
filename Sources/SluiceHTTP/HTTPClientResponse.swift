/// What the server answered: any status, including 4xx and 5xx.
///
/// An HTTP error status is an answer, not a failure, so ``CurlHTTPClient/execute(_:)`` returns it;
/// only transport problems throw ``CurlError``. Provider adapters decide what a status means.
public struct HTTPClientResponse: Sendable, Hashable {
    public var status: Int
    /// Header names are lowercased, values trimmed, in the order received. Only the final
    /// response's headers are kept (not those of an interim `100 Continue`).
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of the header called `name` (any case), e.g. `retry-after`.
    public func header(_ name: String) -> String? {
        headers.first(named: name)
    }

    /// The body decoded as UTF-8, for logs and error messages.
    public var bodyText: String {
        String(decoding: body, as: UTF8.self)
    }
}
