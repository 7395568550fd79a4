// MARK: - Integers within a range

extension JSONObjectReader {
    /// The integer at `key`, which must lie in `range`.
    ///
    /// Numbers in records are untrusted; reading them through a range makes every later
    /// conversion and sum safe, and names the field when a record is out of bounds.
    ///
    /// - Throws: `JSONShapeError` when the field is missing, not an integer, or outside `range`.
    public func int<T: FixedWidthInteger>(_ key: String, in range: ClosedRange<T>) throws(JSONShapeError) -> T {
        guard let value = try optionalInt(key, in: range) else { throw missing(key) }
        return value
    }

    /// The integer at `key`, or nil when absent or null; a present value must lie in `range`.
    ///
    /// - Throws: `JSONShapeError` when the field is not an integer or outside `range`.
    public func optionalInt<T: FixedWidthInteger>(_ key: String, in range: ClosedRange<T>) throws(JSONShapeError) -> T? {
        guard let raw = try optionalInt(key) else { return nil }
        guard let value = T(exactly: raw), range.contains(value) else {
            throw invalid(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(raw)")
        }
        return value
    }
}

// MARK: - Numbers within a range

extension JSONObjectReader {
    /// The number at `key`, or nil when absent or null; a present value must lie in `range`
    /// (the JSON reader never produces inf or nan, so the comparison is sound).
    ///
    /// - Throws: `JSONShapeError` when the field is not a number or outside `range`.
    public func optionalDouble(_ key: String, in range: ClosedRange<Double>) throws(JSONShapeError) -> Double? {
        guard let raw = optional(key) else { return nil }
        let value: Double
        switch raw {
        case .int(let i): value = Double(i)
        case .double(let d): value = d
        default: throw invalid(key, "must be a number, got \(raw.typeName)")
        }
        guard value.isFinite, range.contains(value) else {
            throw invalid(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }
}
