/// Reads typed fields out of a JSON object and reports every deviation with its stable error code.
///
/// Call `finish()` after reading the known fields: any field left unread is an `unknown_field` error, so a
/// misspelt field name never passes silently.
public struct ObjectReader {
    private let fields: [String: JSONValue]
    private let context: String
    private var seen: Set<String> = []

    /// Wraps `value`, which must be an object; `context` names it in error messages ("hello", "offer.sealed").
    public init(_ value: JSONValue, context: String) throws(ProtocolError) {
        guard case .object(let fields) = value else {
            throw ProtocolError(context.contains(".") ? .wrongType : .notAnObject, "\(context) must be a JSON object, not \(value.typeName)")
        }
        self.fields = fields
        self.context = context
    }

    /// Marks `key` as known without reading it.
    public mutating func skip(_ key: String) { seen.insert(key) }

    /// The raw value of `key`, or nil when absent.
    public mutating func optionalValue(_ key: String) -> JSONValue? {
        seen.insert(key)
        return fields[key]
    }

    /// The raw value of `key`; fails with `missing_field` when absent.
    public mutating func value(_ key: String) throws(ProtocolError) -> JSONValue {
        guard let value = optionalValue(key) else { throw ProtocolError(.missingField, "\(context) needs the field \"\(key)\"") }
        return value
    }

    private func wrongType(_ key: String, _ expected: String, _ value: JSONValue) -> ProtocolError {
        ProtocolError(.wrongType, "\(context).\(key) must be \(expected), not \(value.typeName)")
    }

    /// A required string field.
    public mutating func string(_ key: String, maxLength: Int = Limits.maximumFrameBytes) throws(ProtocolError) -> String {
        let value = try value(key)
        return try checkString(key, value, maxLength: maxLength)
    }

    /// An optional string field; `null` counts as absent.
    public mutating func optionalString(_ key: String, maxLength: Int = Limits.maximumFrameBytes) throws(ProtocolError) -> String? {
        guard let value = optionalValue(key), value != .null else { return nil }
        return try checkString(key, value, maxLength: maxLength)
    }

    /// An optional boolean field (absent: nil). `null` is a wrong type: a boolean is `true` or `false`.
    public mutating func optionalBool(_ key: String) throws(ProtocolError) -> Bool? {
        guard let value = optionalValue(key) else { return nil }
        guard case .bool(let flag) = value else { throw wrongType(key, "a boolean", value) }
        return flag
    }

    private func checkString(_ key: String, _ value: JSONValue, maxLength: Int) throws(ProtocolError) -> String {
        guard case .string(let text) = value else { throw wrongType(key, "a string", value) }
        guard text.utf8.count <= maxLength else {
            throw ProtocolError(.invalidValue, "\(context).\(key) is longer than \(maxLength) bytes")
        }
        return text
    }

    /// A required integer field within `range`.
    public mutating func integer(_ key: String, in range: ClosedRange<Int64>) throws(ProtocolError) -> Int64 {
        let value = try value(key)
        guard case .int(let number) = value else { throw wrongType(key, "an integer", value) }
        guard range.contains(number) else {
            throw ProtocolError(.invalidValue, "\(context).\(key) must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return number
    }

    /// A required array of strings, at most `maxCount` long, each at most `maxLength` bytes.
    public mutating func strings(_ key: String, maxCount: Int, maxLength: Int) throws(ProtocolError) -> [String] {
        let value = try value(key)
        guard case .array(let items) = value else { throw wrongType(key, "an array of strings", value) }
        guard items.count <= maxCount else {
            throw ProtocolError(.invalidValue, "\(context).\(key) has more than \(maxCount) entries")
        }
        var result: [String] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard case .string(let text) = item else { throw wrongType(key, "an array of strings", item) }
            guard text.utf8.count <= maxLength else {
                throw ProtocolError(.invalidValue, "an entry of \(context).\(key) is longer than \(maxLength) bytes")
            }
            result.append(text)
        }
        return result
    }

    /// A required array of integers.
    public mutating func integers(_ key: String, maxCount: Int) throws(ProtocolError) -> [Int64] {
        let value = try value(key)
        guard case .array(let items) = value, items.count <= maxCount else { throw wrongType(key, "an array of integers", value) }
        var result: [Int64] = []
        for item in items {
            guard case .int(let number) = item else { throw wrongType(key, "an array of integers", item) }
            result.append(number)
        }
        return result
    }

    /// A required public key field.
    public mutating func publicKey(_ key: String) throws(ProtocolError) -> PublicKey {
        let text = try string(key, maxLength: 64)
        do {
            return try PublicKey(base64: text)
        } catch {
            throw ProtocolError(.invalidValue, "\(context).\(key) is not a base64 X25519 public key")
        }
    }

    /// A required base64 field decoding to `byteCount` bytes (or at most `maxBytes` when `byteCount` is nil).
    public mutating func bytes(_ key: String, byteCount: Int? = nil, maxBytes: Int = Limits.maximumSealedBytes) throws(ProtocolError) -> [UInt8] {
        let text = try string(key, maxLength: (maxBytes + 2) / 3 * 4)
        guard let decoded = Base64.decode(text) else {
            throw ProtocolError(.invalidValue, "\(context).\(key) is not canonical base64")
        }
        if let byteCount, decoded.count != byteCount {
            throw ProtocolError(.invalidValue, "\(context).\(key) must be \(byteCount) bytes, not \(decoded.count)")
        }
        guard decoded.count <= maxBytes else {
            throw ProtocolError(.invalidValue, "\(context).\(key) is longer than \(maxBytes) bytes")
        }
        return decoded
    }

    /// A required base64 field checked like `bytes` (canonical, length), returned as its text and byte count
    /// without decoding it.
    public mutating func base64Text(_ key: String, byteCount: Int? = nil, maxBytes: Int = Limits.maximumSealedBytes)
        throws(ProtocolError) -> (text: String, byteCount: Int)
    {
        let text = try string(key, maxLength: (maxBytes + 2) / 3 * 4)
        guard let count = Base64.canonicalByteCount(text) else {
            throw ProtocolError(.invalidValue, "\(context).\(key) is not canonical base64")
        }
        if let byteCount, count != byteCount {
            throw ProtocolError(.invalidValue, "\(context).\(key) must be \(byteCount) bytes, not \(count)")
        }
        guard count <= maxBytes else {
            throw ProtocolError(.invalidValue, "\(context).\(key) is longer than \(maxBytes) bytes")
        }
        return (text, count)
    }

    /// A required nested object, read by `body` with its own reader (which is finished for you).
    public mutating func object<T>(_ key: String, _ body: (inout ObjectReader) throws(ProtocolError) -> T) throws(ProtocolError) -> T {
        let value = try value(key)
        var nested = try ObjectReader(value, context: "\(context).\(key)")
        let result = try body(&nested)
        try nested.finish()
        return result
    }

    /// Fails with `unknown_field` naming the first field that was never read.
    public func finish() throws(ProtocolError) {
        if let unknown = fields.keys.sorted().first(where: { !seen.contains($0) }) {
            throw ProtocolError(.unknownField, "\(context) has an unknown field \"\(unknown)\"")
        }
    }
}
