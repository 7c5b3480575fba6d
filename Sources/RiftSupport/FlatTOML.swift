/// A guard for riftgate's TOML files (`hub.toml`, `riftgate.toml`), which hold top-level `key = value` settings only.
public enum FlatTOML {
    /// The 1-based number of the first line that opens a table (`[name]` or `[[name]]`), or nil when there is none.
    ///
    /// Checked before TOMLKit sees a file. These files have no tables, and toml++ 3 (inside TOMLKit 0.6) does not
    /// report a header whose key starts with anything but a key character or a quote (`[=]`, `[.a]`, `[{]`, a control
    /// character) as an error: it fails an `assert` and aborts the process (found by `Tests/fuzz` FuzzConfiguration).
    /// Any line starting with `[` is refused, which also refuses a nested array or a multi-line string line starting
    /// with `[`: neither is a valid value of any setting.
    ///
    /// Works on Unicode scalars, not `Character`s: `[` followed by a combining mark is one grapheme cluster that is not
    /// equal to "[", yet toml++ sees a `[` (the fuzzer found that too).
    public static func tableLine(in text: String) -> Int? {
        var line = 1
        var atLineStart = true
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n":
                line += 1
                atLineStart = true
            case "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}":
                atLineStart = true
            case "[" where atLineStart:
                return line
            case _ where scalar.properties.isWhitespace || scalar == "\u{FEFF}":
                continue
            default:
                atLineStart = false
            }
        }
        return nil
    }
}
