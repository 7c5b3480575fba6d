/// The TOML of riftgate's files (`hub.toml`, `riftgate.toml`, the agent's secrets file): top-level `key = value`
/// settings whose values are strings, integers, booleans and lists of them, as TOML 1.0 writes them. Everything
/// else TOML has is refused with the line it is on: `[table]` headers, `{inline tables}`, dotted keys, floats,
/// dates and times.
///
/// riftgate reads its files with this parser rather than a general TOML library. toml++ 3 (inside TOMLKit 0.6, built
/// without `NDEBUG`) aborted the process on an `assert` for some malformed input instead of reporting an error (found
/// by `Tests/fuzz` FuzzConfiguration: `[=]`, `a = [}`, `ea= 9934-91-90 2]= `), and TOMLKit linked all of Foundation
/// into the agent.
public enum FlatTOML {
    /// One setting's value.
    public enum Value: Sendable, Hashable {
        /// A basic, literal or multi-line string.
        case string(String)
        /// A decimal, hexadecimal (`0x`), octal (`0o`) or binary (`0b`) integer that fits in `Int`.
        case integer(Int)
        /// `true` or `false`.
        case boolean(Bool)
        /// A list of values (each setting says which kind it takes).
        case array([Value])

        /// The string, if this is one.
        public var string: String? { if case .string(let text) = self { text } else { nil } }
        /// The integer, if this is one.
        public var int: Int? { if case .integer(let number) = self { number } else { nil } }
        /// The boolean, if this is one.
        public var bool: Bool? { if case .boolean(let flag) = self { flag } else { nil } }
        /// The elements, if this is a list of strings only.
        public var strings: [String]? {
            guard case .array(let items) = self else { return nil }
            var texts: [String] = []
            for item in items {
                guard let text = item.string else { return nil }
                texts.append(text)
            }
            return texts
        }
    }

    /// The settings of one file, in the order the file gives them.
    public struct Document: Sendable, Hashable {
        /// The keys, in file order (each once: a repeated key is refused).
        public private(set) var keys: [String] = []
        private var values: [String: Value] = [:]

        /// The value of `key`, nil when the file does not set it.
        public subscript(key: String) -> Value? { values[key] }

        /// Adds a setting; false when `key` is already set.
        mutating func add(_ key: String, _ value: Value) -> Bool {
            guard values[key] == nil else { return false }
            values[key] = value
            keys.append(key)
            return true
        }
    }

    /// Why a file is not riftgate TOML, and where.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The 1-based line of the problem.
        public let line: Int
        /// What is wrong, for a person.
        public let reason: String

        public var description: String { "line \(line): \(reason)" }
    }

    /// The message for a table header or an inline table.
    static let notFlat = "settings are plain key = value lines, without [tables] or {inline tables}"

    /// Parses `text`; fails on the first line that is not a riftgate setting, a comment or blank.
    public static func parse(_ text: String) throws(ParseError) -> Document {
        var scanner = FlatTOMLScanner(text)
        return try scanner.document()
    }
}
