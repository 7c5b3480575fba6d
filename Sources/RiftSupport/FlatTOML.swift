/// A guard for riftgate's TOML files (`hub.toml`, `riftgate.toml`), which hold top-level `key = value` settings only.
public enum FlatTOML {
    /// The 1-based number of the first line that opens a table (`[name]` or `[[name]]`), or nil when there is none.
    ///
    /// Checked before TOMLKit sees a file. These files have no tables, and toml++ 3 (inside TOMLKit 0.6) does not
    /// report a header whose key starts with anything but a key character or a quote (`[=]`, `[.a]`, `[{]`, a control
    /// character) as an error: it fails an `assert` and aborts the process (found by `Tests/fuzz` FuzzConfiguration).
    /// Any line starting with `[` is refused, which also refuses a nested array or a multi-line string line starting
    /// with `[`: neither is a valid value of any setting.
    public static func tableLine(in text: String) -> Int? {
        var line = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            line += 1
            let content = rawLine.drop { $0.isWhitespace || $0 == "\u{FEFF}" }
            if content.first == "[" { return line }
        }
        return nil
    }
}
