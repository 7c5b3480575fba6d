/// Reads `FlatTOML`'s subset of TOML 1.0 from Unicode scalars, left to right, counting lines.
///
/// Works on scalars, not `Character`s: `[` followed by a combining mark is one grapheme cluster, yet a table header.
struct FlatTOMLScanner {
    typealias ParseError = FlatTOML.ParseError
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var line = 1

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { index = 1 }
    }

    /// Every setting of the text.
    mutating func document() throws(ParseError) -> FlatTOML.Document {
        var document = FlatTOML.Document()
        while true {
            skipSpaces()
            guard let scalar = peek() else { return document }
            switch scalar {
            case "#", "\n", "\r":
                try endOfLine()
            case "[", "{", "}", "]":
                throw failure(FlatTOML.notFlat)
            default:
                let keyLine = line
                let key = try key()
                skipSpaces()
                if peek() == "." { throw failure("dotted keys make tables; \(FlatTOML.notFlat)") }
                guard peek() == "=" else { throw failure("expected = after the key \"\(key)\"") }
                index += 1
                skipSpaces()
                let value = try value(depth: 0)
                guard document.add(key, value) else {
                    throw ParseError(line: keyLine, reason: "\"\(key)\" is set twice")
                }
                try endOfLine()
            }
        }
    }

    // MARK: Lines, spaces and comments

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    private func failure(_ reason: String) -> ParseError { ParseError(line: line, reason: reason) }

    private mutating func skipSpaces() {
        while let scalar = peek(), scalar == " " || scalar == "\t" { index += 1 }
    }

    /// Skips a comment if one starts here; its text may hold any scalar but control characters (tab aside).
    private mutating func skipComment() throws(ParseError) {
        guard peek() == "#" else { return }
        index += 1
        while let scalar = peek(), scalar != "\n", scalar != "\r" {
            if Self.isControl(scalar) { throw failure("a control character (U+\(Self.hex(scalar))) in a comment") }
            index += 1
        }
    }

    /// Consumes a line break (`\n` or `\r\n`) if one is here; true if it did.
    private mutating func lineBreak() throws(ParseError) -> Bool {
        if peek() == "\r" {
            guard peek(1) == "\n" else { throw failure("a carriage return not followed by a line feed") }
            index += 1
        }
        guard peek() == "\n" else { return false }
        index += 1
        line += 1
        return true
    }

    /// After a setting: spaces, an optional comment, then a line break or the end of the text.
    private mutating func endOfLine() throws(ParseError) {
        skipSpaces()
        try skipComment()
        guard peek() != nil else { return }
        guard try lineBreak() else { throw failure("expected the end of the line after the value (one setting per line)") }
    }

    /// Inside a list: spaces, comments and line breaks.
    private mutating func skipBlankLines() throws(ParseError) {
        while true {
            skipSpaces()
            try skipComment()
            guard try lineBreak() else { return }
        }
    }

    // MARK: Keys and values

    private static func isBareKey(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
        default: false
        }
    }

    private mutating func key() throws(ParseError) -> String {
        switch peek() {
        case "\"": return try basicString(multiline: false)
        case "'": return try literalString(multiline: false)
        default:
            let start = index
            while let scalar = peek(), Self.isBareKey(scalar) { index += 1 }
            guard index > start else {
                throw failure("expected a setting (key = value), found \(Self.describe(peek()))")
            }
            return Self.text(scalars[start..<index])
        }
    }

    /// Lists may hold lists (TOML does; each setting then says what it expects), this deep at most.
    static let deepestList = 16

    /// A value; `depth` is the number of lists it is inside.
    private mutating func value(depth: Int) throws(ParseError) -> FlatTOML.Value {
        switch peek() {
        case "\"": return .string(try basicString(multiline: peek(1) == "\"" && peek(2) == "\""))
        case "'": return .string(try literalString(multiline: peek(1) == "'" && peek(2) == "'"))
        case "[":
            guard depth < Self.deepestList else { throw failure("lists nested more than \(Self.deepestList) deep") }
            return .array(try list(depth: depth + 1))
        case "{", "}": throw failure(FlatTOML.notFlat)
        case nil where depth > 0: throw failure("a list without its closing ]")
        case nil, "\n", "\r", "#": throw failure("a setting without a value")
        default: return try word()
        }
    }

    /// `true`, `false` or an integer; anything else that TOML allows here (floats, dates, times, inf, nan) is refused.
    private mutating func word() throws(ParseError) -> FlatTOML.Value {
        let start = index
        while let scalar = peek(), !" \t\r\n#,]".unicodeScalars.contains(scalar) { index += 1 }
        let word = Self.text(scalars[start..<index])
        switch word {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        default:
            if let number = Self.integer(word) { return .integer(number) }
            throw ParseError(line: line, reason: "\(Self.describe(word)) is not a value riftgate reads: settings are "
                                                + "\"strings\", integers, true/false or [lists] of them")
        }
    }

    /// A TOML integer (`+1_000`, `-7`, `0x1F`, `0o17`, `0b101`) that fits in `Int`; nil for anything else.
    static func integer(_ word: String) -> Int? {
        var scalars = Substring(word).unicodeScalars
        var radix = 10
        var negative = false
        if let prefix = word.unicodeScalars.first, prefix == "+" || prefix == "-" {
            negative = prefix == "-"
            scalars = scalars.dropFirst()
        } else if word.hasPrefix("0x") || word.hasPrefix("0o") || word.hasPrefix("0b") {
            radix = word.hasPrefix("0x") ? 16 : word.hasPrefix("0o") ? 8 : 2
            scalars = scalars.dropFirst(2)
        }
        // Digits with single underscores between them; no leading zero in decimal.
        guard let first = scalars.first, first != "_", scalars.last != "_" else { return nil }
        if radix == 10, first == "0", scalars.count > 1 { return nil }
        var value = 0
        var previousWasUnderscore = false
        for scalar in scalars {
            if scalar == "_" {
                if previousWasUnderscore { return nil }
                previousWasUnderscore = true
                continue
            }
            previousWasUnderscore = false
            guard let digit = Int(String(scalar), radix: radix) else { return nil }
            let (shifted, overflow) = value.multipliedReportingOverflow(by: radix)
            let (next, overflow2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflow, !overflow2 else { return nil }
            value = next
        }
        return value
    }

    private mutating func list(depth: Int) throws(ParseError) -> [FlatTOML.Value] {
        index += 1  // [
        var items: [FlatTOML.Value] = []
        while true {
            try skipBlankLines()
            if peek() == "]" { index += 1; return items }
            items.append(try value(depth: depth))
            try skipBlankLines()
            switch peek() {
            case ",": index += 1
            case "]": index += 1; return items
            case "{", "}": throw failure(FlatTOML.notFlat)
            case nil: throw failure("a list without its closing ]")
            default: throw failure("expected , or ] in a list, found \(Self.describe(peek()))")
            }
        }
    }

    // MARK: Strings

    /// A basic string (escapes allowed), one line or `"""` multi-line; `index` is at the opening quote.
    private mutating func basicString(multiline: Bool) throws(ParseError) -> String {
        try stringBody(quote: "\"", multiline: multiline, escapes: true)
    }

    /// A literal string (no escapes), one line or `'''` multi-line; `index` is at the opening quote.
    private mutating func literalString(multiline: Bool) throws(ParseError) -> String {
        try stringBody(quote: "'", multiline: multiline, escapes: false)
    }

    /// The four kinds of string: delimiters, line breaks, control characters, and escapes in basic strings.
    private mutating func stringBody(quote: Unicode.Scalar, multiline: Bool, escapes: Bool) throws(ParseError) -> String {
        var text = String.UnicodeScalarView()
        let startLine = line
        index += multiline ? 3 : 1
        if multiline { _ = try lineBreak() }  // a line break right after the opening quotes is not part of the text
        while true {
            guard let scalar = peek() else {
                throw ParseError(line: startLine, reason: "a string that is never closed")
            }
            if scalar == quote {
                guard multiline else { index += 1; return String(text) }
                var run = 0
                while peek(run) == quote { run += 1 }
                if run < 3 {
                    for _ in 0..<run { text.append(quote) }
                    index += run
                    continue
                }
                // Up to two quotes of the text may stand right before the closing three.
                guard run <= 5 else { throw failure("too many quotes at the end of a multi-line string") }
                for _ in 0..<(run - 3) { text.append(quote) }
                index += run
                return String(text)
            }
            if scalar == "\\", escapes {
                try escape(multiline: multiline, into: &text)
                continue
            }
            if scalar == "\n" || scalar == "\r" {
                guard multiline else { throw failure("a line break inside a one-line string") }
                _ = try lineBreak()
                text.append("\n")
                continue
            }
            if Self.isControl(scalar) { throw failure("a control character (U+\(Self.hex(scalar))) inside a string") }
            text.append(scalar)
            index += 1
        }
    }

    /// One escape of a basic string; `index` is at the backslash. In a multi-line string a backslash at the end of a
    /// line removes the line break and the spaces and line breaks after it.
    private mutating func escape(multiline: Bool, into text: inout String.UnicodeScalarView) throws(ParseError) {
        index += 1
        if multiline {
            var ahead = 0
            while let scalar = peek(ahead), scalar == " " || scalar == "\t" { ahead += 1 }
            if peek(ahead) == "\n" || (peek(ahead) == "\r" && peek(ahead + 1) == "\n") {
                index += ahead
                while true {
                    skipSpaces()
                    guard try lineBreak() else { return }
                }
            }
        }
        guard let scalar = peek() else { throw failure("a string that ends in a backslash") }
        index += 1
        switch scalar {
        case "b": text.append("\u{08}")
        case "t": text.append("\t")
        case "n": text.append("\n")
        case "f": text.append("\u{0C}")
        case "r": text.append("\r")
        case "\"": text.append("\"")
        case "\\": text.append("\\")
        case "u", "U":
            let length = scalar == "u" ? 4 : 8
            guard index + length <= scalars.count,
                  let code = UInt32(Self.text(scalars[index..<(index + length)]), radix: 16),
                  scalars[index..<(index + length)].allSatisfy(\.properties.isASCIIHexDigit),
                  let decoded = Unicode.Scalar(code) else {
                throw failure("\\\(scalar) must be followed by \(length) hex digits of a Unicode scalar value")
            }
            text.append(decoded)
            index += length
        default:
            throw failure("unknown escape \\\(Self.describe(scalar)) in a string (write \\\\ for a backslash)")
        }
    }

    // MARK: Helpers

    /// A control character TOML allows nowhere but as a tab (line breaks are handled before this is asked).
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F
    }

    private static func hex(_ scalar: Unicode.Scalar) -> String {
        let digits = String(scalar.value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private static func text(_ slice: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: slice)
        return String(view)
    }

    /// A found scalar or word, quoted for an error message, with control characters shown as code points.
    private static func describe(_ scalar: Unicode.Scalar?) -> String {
        guard let scalar else { return "the end of the file" }
        return isControl(scalar) || scalar == "\n" || scalar == "\r" ? "U+\(hex(scalar))" : "\"\(scalar)\""
    }

    private static func describe(_ word: String) -> String {
        "\"" + word.unicodeScalars.map { isControl($0) ? "U+\(hex($0))" : String($0) }.joined() + "\""
    }
}
