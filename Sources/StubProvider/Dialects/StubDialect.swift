import SluiceCore

/// One provider's wire format: how its chat requests read and how its answers and errors look.
///
/// The stub's behaviour (summary, usage, faults, latency) is the same for every dialect; only
/// the JSON differs, so a worker's provider adapter can be tested against the real shapes.
protocol StubDialect: Sendable {
    /// Reads a request body. `pathModel` is the model named in the URL, for dialects that put
    /// it there (Gemini).
    ///
    /// - Throws: ``StubRequestError`` naming the bad field, answered with 400.
    func parse(_ body: JSONValue, pathModel: String?) throws(StubRequestError) -> StubChatRequest

    /// The 200 body for a completed request.
    func answer(_ request: StubChatRequest, completion: StubChatCompletion) throws -> [UInt8]

    /// The body of a 400, 429 or 500 in this provider's error shape.
    func errorBody(_ fault: StubFault) -> [UInt8]
}
