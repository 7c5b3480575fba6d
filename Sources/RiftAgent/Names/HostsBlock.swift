/// The block one agent keeps in the hosts file, and the editing of the file's bytes around it:
///
///     # BEGIN riftgate rg0 (managed by riftgate; removed on riftgate down)
///     100.64.0.2 laptop-b.home.rift
///     fd7a:1::2 laptop-b.home.rift
///     # END riftgate rg0
///
/// Pure: `rewrite` takes the file's bytes and returns the new bytes, tested without I/O (`HostsFile` does the I/O).
///
/// - Every block of this interface is removed (a crashed run's too), then the new one, if any, is appended at the end.
///   Every byte outside the block is kept, with one exception: a file whose last line has no newline gets one before
///   an appended block (and keeps it when the block goes).
/// - A BEGIN line without its END line can only be the end of a write cut short (the block is always written last),
///   so it is removed with everything after it.
/// - Other interfaces' blocks (two agents on one machine) are left alone: markers name the interface exactly.
/// - A file whose first line ends in CRLF gets CRLF lines.
/// - Names only as FQDNs (`laptop-b.home.rift`), never the bare label: a bare `laptop-b` would shadow a LAN host of
///   that name, or the same label in another network, and systemd-resolved's strategy routes only the domain too.
struct HostsBlock: Sendable, Equatable {
    /// The WireGuard interface the block belongs to.
    let interface: String

    var beginLine: String { "# BEGIN riftgate \(interface) (managed by riftgate; removed on riftgate down)" }
    var endLine: String { "# END riftgate \(interface)" }

    /// The file's bytes with this interface's block replaced by `lines` (removed when `lines` is empty).
    func rewrite(_ file: [UInt8], lines: [String]) -> [UInt8] {
        var kept: [ArraySlice<UInt8>] = []
        var inside = false
        for line in Self.lines(of: file) {
            let text = Self.content(of: line)
            if inside {
                if text == endLine { inside = false }
            } else if isBegin(text) {
                inside = true
            } else {
                kept.append(line)
            }
        }
        var result = kept.flatMap { $0 }
        guard !lines.isEmpty else { return result }
        let newline: [UInt8] = Self.usesCRLF(file) ? [0x0D, 0x0A] : [0x0A]
        if let last = result.last, last != 0x0A { result += newline }
        for line in [beginLine] + lines + [endLine] { result += Array(line.utf8) + newline }
        return result
    }

    /// Whether the file holds a block (or a cut-short BEGIN line) of this interface.
    func isPresent(in file: [UInt8]) -> Bool {
        Self.lines(of: file).contains { isBegin(Self.content(of: $0)) }
    }

    private func isBegin(_ text: String) -> Bool {
        let marker = "# BEGIN riftgate \(interface)"
        return text == marker || text.hasPrefix(marker + " ")
    }

    /// The file split after every LF; the last line may lack one.
    private static func lines(of file: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = file.startIndex
        for index in file.indices where file[index] == 0x0A {
            lines.append(file[start...index])
            start = index + 1
        }
        if start < file.endIndex { lines.append(file[start...]) }
        return lines
    }

    /// A line without its LF or CRLF and trailing blanks, for comparing with the markers.
    private static func content(of line: ArraySlice<UInt8>) -> String {
        var text = line
        while let last = text.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { text.removeLast() }
        return String(decoding: text, as: UTF8.self)
    }

    private static func usesCRLF(_ file: [UInt8]) -> Bool {
        guard let first = file.firstIndex(of: 0x0A) else { return false }
        return first > file.startIndex && file[first - 1] == 0x0D
    }
}
