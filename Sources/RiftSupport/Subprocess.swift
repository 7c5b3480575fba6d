import Glibc

/// Runs short-lived helper programs (`ip`, `wg`) to completion and reports how they failed.
///
/// Children are started with `posix_spawnp`, default signal dispositions, an empty signal mask and
/// `/dev/null` for any stream not captured. Every run is bounded by a timeout after which the child
/// is killed. Secrets go through `input`, never through arguments, which other local users can read
/// in `/proc` and which appear in error messages.
public enum Subprocess {
    /// The most input a run accepts: what fits into an empty pipe without a reader, so writing it
    /// before the child starts can never block.
    public static let maximumInputCount = 4096

    /// The most standard output a run keeps before it is treated as a failure.
    public static let maximumOutputCount = 16 << 20

    /// Runs `command` (program name looked up in `PATH`, then its arguments) and returns its output.
    ///
    /// `environment` entries are added to (or replace) this process's environment for the child.
    /// Fails with `.notFound` when the program is not installed, `.exited`/`.signaled` when it does
    /// not exit with status 0 (carrying its standard error), `.timedOut` when it is still running
    /// after `timeout` (it is then killed and reaped), and `.ioFailed` for pipe errors.
    public static func run(
        _ command: [String], input: [UInt8] = [], environment: [String: String] = [:],
        timeout: Duration = .seconds(10)
    ) throws(SubprocessError) -> SubprocessOutput {
        precondition(!command.isEmpty, "a command names a program")
        guard input.count <= maximumInputCount else {
            throw SubprocessError(.ioFailed, command: command, reason: "input longer than \(maximumInputCount) bytes")
        }
        var inputPipe: ChildPipe?
        if !input.isEmpty {
            let pipe = try ChildPipe.make(for: command)
            let written = input.withUnsafeBytes { write(pipe.writeEnd, $0.baseAddress, $0.count) }
            pipe.closeWriteEnd()
            guard written == input.count else {
                pipe.closeReadEnd()
                throw SubprocessError(.ioFailed, command: command, errno: errno, reason: "could not write input")
            }
            inputPipe = pipe
        }
        defer { inputPipe?.closeReadEnd() }
        let outputPipe = try ChildPipe.make(for: command)
        defer { outputPipe.closeReadEnd() }
        let errorPipe: ChildPipe
        do { errorPipe = try ChildPipe.make(for: command) } catch { outputPipe.closeWriteEnd(); throw error }
        defer { errorPipe.closeReadEnd() }

        let processID: pid_t
        do {
            processID = try ChildSpawner.spawn(
                command, environment: environment, input: inputPipe?.readEnd,
                output: outputPipe.writeEnd, error: errorPipe.writeEnd, ownProcessGroup: false)
        } catch {
            outputPipe.closeWriteEnd()
            errorPipe.closeWriteEnd()
            throw error
        }
        outputPipe.closeWriteEnd()
        errorPipe.closeWriteEnd()
        inputPipe?.closeReadEnd()
        inputPipe = nil

        var collected = ChildOutput()
        let finished = collected.read(output: outputPipe.readEnd, error: errorPipe.readEnd,
                                      until: .now + timeout)
        if !finished { kill(processID, SIGKILL) }
        let status = ChildSpawner.reap(processID)
        let standardError = String(decoding: collected.error, as: UTF8.self)
        guard finished else {
            throw SubprocessError(.timedOut, command: command, standardError: standardError,
                                  reason: collected.failure ?? "still running after \(timeout)")
        }
        switch status {
        case .exited(0):
            return SubprocessOutput(standardOutput: collected.output, standardError: standardError)
        case .exited(let code):
            throw SubprocessError(.exited(code), command: command, standardError: standardError)
        case .signaled(let signal):
            throw SubprocessError(.signaled(signal), command: command, standardError: standardError)
        }
    }

    /// The full path of the executable `name` found in `PATH` (or `name` itself when it contains a
    /// `/` and is executable), or nil when it is not installed.
    public static func executablePath(named name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let searchPath = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in searchPath.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

/// What a successful run printed.
public struct SubprocessOutput: Sendable {
    /// Everything written to standard output. May hold secrets (`wg show dump`); never log it whole.
    public var standardOutput: [UInt8]
    /// Everything written to standard error.
    public var standardError: String

    /// Standard output as text.
    public var text: String { String(decoding: standardOutput, as: UTF8.self) }
}
