import Foundation
import RiftSupport
import Testing

/// The agent's modules import FoundationEssentials only; these helpers stand in for the Foundation calls they used,
/// so each is checked against Foundation itself on the inputs that matter (and the awkward ones).
@Suite("Text helpers without Foundation: the same answers as Foundation's trimming and NSString paths")
struct FoundationFreeTextTests {
    static let texts = [
        "", " ", "\t", "\n", " \r\n", "abc", "  abc  ", "\tabc\t", "\nabc\n", " \r\n abc \r\n ", "a b", " a b ",
        "\u{00A0}abc\u{3000}", "\u{2028}abc\u{2029}", "\u{85}abc\u{0B}\u{0C}", "\u{200B}abc", "e\u{0301} ",
        " \u{0301}x", "ff\n", "CapEff:\t0000003fffffffff", "rgt_token\n",
    ]

    @Test("trimmingWhitespace() is trimmingCharacters(in: .whitespaces)", arguments: texts)
    func whitespace(text: String) {
        #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces))
        #expect(text[...].trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces))
    }

    @Test("trimmingWhitespaceAndNewlines() is trimmingCharacters(in: .whitespacesAndNewlines)", arguments: texts)
    func whitespaceAndNewlines(text: String) {
        #expect(text.trimmingWhitespaceAndNewlines() == text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("FilePathText.directory(of:) is NSString.deletingLastPathComponent", arguments: [
        "/etc/riftgate/riftgate.toml", "/etc/riftgate/", "/etc", "/", "riftgate.toml", "", "a/b", "a/b/",
        "//etc//riftgate//x.toml", "/run/riftgate.sock", "./x", "../x/y",
    ])
    func directory(path: String) {
        #expect(FilePathText.directory(of: path) == (path as NSString).deletingLastPathComponent)
    }
}
