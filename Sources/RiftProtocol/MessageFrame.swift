/// Shared first steps of decoding any frame: size, JSON, object, `type`.
enum MessageFrame {
    /// Parses `text` and returns its reader and `type`, or fails with the specified error code.
    static func open(_ text: String, knownTypes: Set<String>) throws(ProtocolError) -> (ObjectReader, String) {
        guard text.utf8.count <= Limits.maximumFrameBytes else {
            throw ProtocolError(.frameTooLarge, "frame of \(text.utf8.count) bytes exceeds \(Limits.maximumFrameBytes)")
        }
        let value = try JSONParser.parse(text)
        var reader = try ObjectReader(value, context: "message")
        let type = try reader.string("type", maxLength: 64)
        guard knownTypes.contains(type) else { throw ProtocolError(.unknownType, "unknown message type \"\(type)\"") }
        return (reader, type)
    }

    /// Reads the optional client message `id`.
    static func readID(_ reader: inout ObjectReader) throws(ProtocolError) -> String? {
        try reader.optionalString("id", maxLength: Limits.maximumMessageIDLength)
    }
}

extension JSONValue {
    /// Builds an object value, dropping nil fields.
    static func fields(_ pairs: [(String, JSONValue?)]) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for (key, value) in pairs { if let value { object[key] = value } }
        return .object(object)
    }
}
