internal import CRiftPQ
#if canImport(Glibc)
import Glibc
#endif

/// Statement parameters as libpq takes them, and result values as libpq gives them, in the text format.
///
/// Each value is sent with its type (int8, float8, text, bytea), so PostgreSQL never has to guess one
/// (`SELECT ?` alone would otherwise be text). Results are read by column type: integers and booleans as
/// `.integer`, floating point as `.real`, bytea as `.blob`, everything else as `.text`.
struct PostgresParameters {
    private let types: [Oid]
    private let texts: [String?]

    static let boolType: Oid = 16, byteaType: Oid = 17, int8Type: Oid = 20, int2Type: Oid = 21, int4Type: Oid = 23
    static let textType: Oid = 25, oidType: Oid = 26, float4Type: Oid = 700, float8Type: Oid = 701, numericType: Oid = 1700

    init(_ values: [SQLiteValue]) {
        var types: [Oid] = [], texts: [String?] = []
        for value in values {
            switch value {
            case .null: types.append(0); texts.append(nil)
            case .integer(let number): types.append(Self.int8Type); texts.append(String(number))
            case .real(let number): types.append(Self.float8Type); texts.append("\(number)")
            case .text(let string): types.append(Self.textType); texts.append(string)
            case .blob(let bytes): types.append(Self.byteaType); texts.append(Self.hex(bytes))
            }
        }
        self.types = types
        self.texts = texts
    }

    /// `PQexecParams` with these values; nil when libpq could not even build a result (out of memory).
    ///
    /// The copies of the values are freed as soon as libpq has sent them.
    func execute(_ sql: String, on connection: OpaquePointer) -> OpaquePointer? {
        let copies = texts.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        return types.withUnsafeBufferPointer { typeBuffer in
            pointers.withUnsafeBufferPointer { valueBuffer in
                PQexecParams(connection, sql, Int32(texts.count), typeBuffer.baseAddress, valueBuffer.baseAddress, nil, nil, 0)
            }
        }
    }

    /// `sql` with SQLite's parameters (`?` numbered in order, `?N` explicitly) written as PostgreSQL's `$N`;
    /// text in quotes, quoted identifiers and comments is left as it is.
    static func numbered(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count + 8)
        var next = 1
        var quote: Character?
        var index = sql.startIndex
        while index < sql.endIndex {
            let character = sql[index]
            index = sql.index(after: index)
            if let open = quote {
                output.append(character)
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                output.append(character)
            case "?":
                var digits = ""
                while index < sql.endIndex, let digit = sql[index].wholeNumberValue, sql[index].isASCII {
                    digits.append(String(digit))
                    index = sql.index(after: index)
                }
                if digits.isEmpty {
                    output.append("$\(next)")
                    next += 1
                } else {
                    output.append("$" + digits)
                    next = max(next, (Int(digits) ?? 0) + 1)
                }
            default:
                output.append(character)
            }
        }
        return output
    }

    /// One result value in PostgreSQL's text format, read according to its column type.
    static func value(text: String, type: Oid) -> SQLiteValue {
        switch type {
        case int8Type, int4Type, int2Type, oidType: return Int64(text).map { .integer($0) } ?? .text(text)
        case boolType: return .integer(text == "t" ? 1 : 0)
        case float4Type, float8Type: return Double(text).map { .real($0) } ?? .text(text)
        case numericType: return Int64(text).map { .integer($0) } ?? Double(text).map { .real($0) } ?? .text(text)
        case byteaType: return unhex(text).map { .blob($0) } ?? .text(text)
        default: return .text(text)
        }
    }

    /// bytea's hex input format: `\x` then two hex digits a byte.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        text.reserveCapacity(2 + bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// bytea's hex output format back to bytes; nil for anything else.
    static func unhex(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count >= 2, characters[0] == UInt8(ascii: "\\"), characters[1] == UInt8(ascii: "x"), characters.count % 2 == 0 else { return nil }
        func nibble(_ character: UInt8) -> UInt8? {
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((characters.count - 2) / 2)
        var index = 2
        while index < characters.count {
            guard let high = nibble(characters[index]), let low = nibble(characters[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
