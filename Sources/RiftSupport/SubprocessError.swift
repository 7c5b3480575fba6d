import Glibc

/// How a child process ended.
public enum ExitStatus: Sendable, Hashable, CustomStringConvertible {
    /// It called `exit` with this status.
    case exited(Int32)
    /// It was killed by this signal.
    case signaled(Int32)

    /// Decodes a `waitpid` status (the `WIFEXITED`/`WTERMSIG` macros, which Swift cannot import).
    init(waitStatus: Int32) {
        let signal = waitStatus & 0x7F
        self = signal == 0 ? .exited((waitStatus >> 8) & 0xFF) : .signaled(signal)
    }

    public var description: String {
        switch self {
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "signal \(signal)"
        }
    }
}

/// Why a child process could not be run or did not succeed.
public struct SubprocessError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Hashable {
        /// The program is not installed (not found in `PATH`).
        case notFound
        /// `posix_spawn` or `pthread_create` failed for another reason (see `errno`).
        case spawnFailed
        /// The program exited with a non-zero status.
        case exited(Int32)
        /// The program was killed by a signal.
        case signaled(Int32)
        /// The program did not finish in time and was killed.
        case timedOut
        /// Reading from or writing to the program failed.
        case ioFailed
    }

    /// What went wrong.
    public var kind: Kind
    /// The program and its arguments (which never hold secrets).
    public var command: [String]
    /// The system error number, or 0 when there is none.
    public var errno: Int32
    /// What the program wrote to standard error, if it ran.
    public var standardError: String
    /// A short explanation added by the caller or by `Subprocess`.
    public var reason: String

    /// Describes a failure of `command`.
    public init(_ kind: Kind, command: [String], errno: Int32 = 0, standardError: String = "", reason: String = "") {
        self.kind = kind
        self.command = command
        self.errno = errno
        self.standardError = standardError
        self.reason = reason
    }

    public var description: String {
        let program = command.joined(separator: " ")
        var text: String
        switch kind {
        case .notFound: text = "\(command.first ?? "program") is not installed (not found in PATH)"
        case .spawnFailed: text = "could not start `\(program)`"
        case .exited(let code): text = "`\(program)` failed with exit status \(code)"
        case .signaled(let signal): text = "`\(program)` was killed by signal \(signal)"
        case .timedOut: text = "`\(program)` timed out"
        case .ioFailed: text = "I/O with `\(program)` failed"
        }
        if !reason.isEmpty { text += ": \(reason)" }
        if errno != 0 { text += " (\(SystemCallError.reason(for: errno)))" }
        let trimmed = standardError.trimmingWhitespace
        if !trimmed.isEmpty { text += ": \(trimmed)" }
        return text
    }
}

extension String {
    /// The text without leading and trailing spaces and newlines; Foundation is not needed for this.
    var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
