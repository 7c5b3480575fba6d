import FoundationEssentials
import Glibc
import RiftSupport

/// Why reading or creating a file failed, in the system's words ("No such file or directory"), for the messages that
/// used Foundation's `Error.localizedDescription`: FoundationEssentials has none, and that one property linked all of
/// Foundation into the agent (docs/performance.md, "Agent memory").
public enum FileErrorReason {
    /// The reason of `error`, thrown by FoundationEssentials' file APIs (`String(contentsOfFile:)`,
    /// `FileManager.createDirectory`); any other error as it describes itself.
    public static func text(_ error: any Error) -> String {
        if let posix = error as? POSIXError { return SystemCallError.reason(for: posix.code.rawValue) }
        guard let cocoa = error as? CocoaError else { return "\(error)" }
        if let underlying = cocoa.userInfo["NSUnderlyingError"] as? POSIXError {
            return SystemCallError.reason(for: underlying.code.rawValue)
        }
        switch cocoa.code {
        case .fileReadNoSuchFile, .fileNoSuchFile: return SystemCallError.reason(for: ENOENT)
        case .fileReadNoPermission, .fileWriteNoPermission: return SystemCallError.reason(for: EACCES)
        case .fileReadInapplicableStringEncoding, .fileReadCorruptFile: return "not UTF-8 text"
        default: return "\(error)"
        }
    }
}
