/// A guard for riftgate's TOML files (`hub.toml`, `riftgate.toml`), which hold top-level `key = value` settings whose
/// values are strings, numbers, booleans and arrays of strings: no `[table]` headers and no `{inline tables}`.
///
/// Checked before TOMLKit sees a file, because toml++ 3 (inside TOMLKit 0.6, built without `NDEBUG`) does not report
/// some malformed tables as errors: it fails an `assert` and aborts the process. Found by `Tests/fuzz`
/// FuzzConfiguration: a header whose key starts with anything but a key character or a quote (`[=]`, `[.a]`, `[{]`,
/// a control character, or `[` followed by a combining mark), and a `}` where an array element belongs (`a = [}`).
public enum FlatTOML {
    /// The 1-based line of the first table header (a line starting with `[`) or brace outside strings and comments;
    /// nil when there is none. A nested array on a line of its own is refused too: it is no setting's valid value.
    ///
    /// Works on Unicode scalars, not `Character`s: `[` followed by a combining mark is one grapheme cluster that is
    /// not equal to "[", yet toml++ sees a `[`.
    public static func tableLine(in text: String) -> Int? {
        let scalars = Array(text.unicodeScalars)
        var index = 0
        var line = 1
        var atLineStart = true
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "\n":
                line += 1
                atLineStart = true
            case "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}":
                atLineStart = true
            case "#":
                while index + 1 < scalars.count, scalars[index + 1] != "\n" { index += 1 }
            case "[" where atLineStart, "{", "}":
                return line
            case "\"", "'":
                index = endOfString(scalars, from: index, line: &line)
                atLineStart = false
                continue
            case _ where scalar.properties.isWhitespace || scalar == "\u{FEFF}":
                break
            default:
                atLineStart = false
            }
            index += 1
        }
        return nil
    }

    /// The index after the string that starts at `start` (basic or literal, one line or multi-line), counting the lines
    /// it spans. A one-line string ends at a line break too, where toml++ stops with an error anyway.
    private static func endOfString(_ scalars: [Unicode.Scalar], from start: Int, line: inout Int) -> Int {
        let quote = scalars[start]
        let escapes = quote == "\""
        func quotes(at index: Int) -> Int {
            var count = 0
            while index + count < scalars.count, scalars[index + count] == quote { count += 1 }
            return count
        }
        let multiline = quotes(at: start) >= 3
        var index = start + (multiline ? 3 : 1)
        while index < scalars.count {
            let scalar = scalars[index]
            if escapes, scalar == "\\" {
                index += 1
                if index < scalars.count, scalars[index] == "\n" { line += 1 }
                if index < scalars.count, !multiline, scalars[index] == "\n" { return index }
                index += 1
                continue
            }
            if scalar == "\n" {
                line += 1
                if !multiline { return index }
            }
            if scalar == quote {
                // A multi-line string may end with up to two quotes of its content before its closing three.
                if !multiline { return index + 1 }
                let run = quotes(at: index)
                if run >= 3 { return index + min(run, 5) }
                index += run
                continue
            }
            index += 1
        }
        return index
    }
}
