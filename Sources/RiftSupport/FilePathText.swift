/// File paths as text, for modules that import FoundationEssentials only (which has no `NSString` path methods).
public enum FilePathText {
    /// The directory part of `path`, as `NSString.deletingLastPathComponent` gives it: "/etc/riftgate/a.toml" →
    /// "/etc/riftgate", "/etc/riftgate/" → "/etc", "/etc" → "/", "/" → "/", "a.toml" → "".
    public static func directory(of path: String) -> String {
        var components = path.split(separator: "/", omittingEmptySubsequences: true)
        let absolute = path.hasPrefix("/")
        guard !components.isEmpty else { return absolute ? "/" : "" }
        components.removeLast()
        let joined = components.joined(separator: "/")
        return absolute ? "/" + joined : joined
    }
}
