/// Trimming the way Foundation's `trimmingCharacters(in: .whitespaces)` and `(in: .whitespacesAndNewlines)` do, for
/// modules that import FoundationEssentials only (which has no `CharacterSet`): the agent keeps Foundation and its ICU
/// out of its process (docs/performance.md, "Agent memory").
extension StringProtocol {
    /// The text without leading and trailing spaces and tabs: Unicode category Zs, U+0009 and U+200B (zero width
    /// space), as `CharacterSet.whitespaces` on Linux (CoreFoundation's set).
    public func trimmingWhitespace() -> String {
        trimming(where: Self.isWhitespace)
    }

    /// The text without leading and trailing spaces, tabs and line breaks: `trimmingWhitespace()`'s, Unicode
    /// category Z, U+000A–U+000D and U+0085, as `CharacterSet.whitespacesAndNewlines`.
    public func trimmingWhitespaceAndNewlines() -> String {
        trimming { scalar in
            Self.isWhitespace(scalar) || (0x0A...0x0D).contains(scalar.value) || scalar.value == 0x85
                || [.lineSeparator, .paragraphSeparator].contains(scalar.properties.generalCategory)
        }
    }

    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\t" || scalar == "\u{200B}" || scalar.properties.generalCategory == .spaceSeparator
    }

    private func trimming(where isTrimmed: (Unicode.Scalar) -> Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isTrimmed($0) }),
              let last = scalars.lastIndex(where: { !isTrimmed($0) }) else { return "" }
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: scalars[first...last])
        return String(kept)
    }
}
