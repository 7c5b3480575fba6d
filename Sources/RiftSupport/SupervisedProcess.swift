import Dispatch
import Glibc
import RiftSupport

/// A long-running child process (a daemon kept in the foreground, such as `wireguard-go -f`) that
/// this process owns: it is started in `init`, stopped by `terminate`, and stopped by `deinit` at the
/// latest.
///
/// One dedicated thread spawns the child, drains its standard output and error (keeping the last
/// few kilobytes for error messages), and reaps it. Because Linux sends a parent-death signal when
/// the *thread* that created a child exits, this thread lives exactly as long as the child; with
/// `parentDeathSignal`, the child is started through `setpriv --pdeathsig TERM` and so receives
/// SIGTERM if this process dies, even by SIGKILL. The thread checks for exit with `waitid(WNOWAIT)`
/// and reaps only after marking the child gone under the lock that guards `kill`, so a signal can
/// never reach a recycled process ID.
public final class SupervisedProcess: Sendable {
    /// The child's process ID.
    public let processID: Int32
    /// The program and its arguments.
    public let command: [String]
    private let shared: SupervisedProcessState

    /// Starts `command` (program looked up in `PATH`) with `environment` added to ours, standard
    /// input from `/dev/null`, in its own process group.
    ///
    /// Fails with `.notFound` when the program (or `setpriv`, when asked for) is not installed and
    /// `.spawnFailed` when the thread or process cannot be created.
    public init(_ command: [String], environment: [String: String] = [:], parentDeathSignal: Bool = true) throws(SubprocessError) {
        var fullCommand = command
        if parentDeathSignal { fullCommand = ["setpriv", "--pdeathsig", "TERM", "--"] + command }
        let outputPipe = try ChildPipe.make(for: fullCommand)
        let shared = SupervisedProcessState()
        let supervisor = ProcessSupervisor(command: fullCommand, environment: environment, pipe: outputPipe, shared: shared)
        do {
            try JoinableThread.spawn(name: "riftgate-child") { supervisor.run() }.detach()
        } catch {
            outputPipe.closeReadEnd()
            outputPipe.closeWriteEnd()
            throw SubprocessError(.spawnFailed, command: fullCommand, errno: error.code, reason: "could not create its supervising thread")
        }
        shared.started.wait()
        switch shared.startResult {
        case .success(let processID):
            self.processID = processID
        case .failure(let error):
            throw error
        }
        self.command = fullCommand
        self.shared = shared
    }

    deinit { _ = terminate() }

    /// How the child ended, or nil while it runs.
    public var exitStatus: ExitStatus? { shared.state.withLock { $0.exitStatus } }

    /// The last few kilobytes the child wrote to standard output and error.
    public var recentOutput: String { shared.state.withLock { String(decoding: $0.output, as: UTF8.self) } }

    /// Sends `signal` unless the child has already exited; never reaches another process.
    public func send(_ signal: Int32) {
        shared.state.withLock { state in
            if !state.hasExited { _ = kill(processID, signal) }
        }
    }

    /// Waits up to `timeout` for the child to exit; its status, or nil if it is still running.
    public func waitForExit(timeout: Duration) -> ExitStatus? {
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        _ = shared.exited.wait(timeout: .now() + .nanoseconds(Int(clamping: nanoseconds)))
        return exitStatus
    }

    /// Stops the child: SIGTERM, then SIGKILL if it is still running after `gracePeriod`, then waits
    /// up to `gracePeriod` again. Returns its status, or nil if it could not be stopped (for example a
    /// process stuck in the kernel). Safe to call repeatedly and from several threads.
    @discardableResult
    public func terminate(gracePeriod: Duration = .seconds(2)) -> ExitStatus? {
        if let status = exitStatus { return status }
        send(SIGTERM)
        if let status = waitForExit(timeout: gracePeriod) { return status }
        send(SIGKILL)
        return waitForExit(timeout: gracePeriod)
    }
}

/// What the supervising thread and the owner share.
final class SupervisedProcessState: Sendable {
    struct State {
        var hasExited = false
        var exitStatus: ExitStatus?
        var output: [UInt8] = []
    }

    static let outputLimit = 8192
    let state = Locked(State())
    /// Signalled once the spawn has succeeded or failed.
    let started = DispatchSemaphore(value: 0)
    /// Left once the child has been reaped; entered from creation.
    let exited: DispatchGroup = {
        let group = DispatchGroup()
        group.enter()
        return group
    }()
    private let result = Locked<Result<Int32, SubprocessError>?>(nil)

    var startResult: Result<Int32, SubprocessError> { result.withLock { $0! } }
    func reportStart(_ outcome: Result<Int32, SubprocessError>) {
        result.withLock { $0 = outcome }
        started.signal()
    }
}

/// The body of the supervising thread; retained once for the thread and released when it ends.
private final class ProcessSupervisor: @unchecked Sendable {  // handed to its own thread once; only that thread uses it
    let command: [String]
    let environment: [String: String]
    let pipe: ChildPipe
    let shared: SupervisedProcessState

    init(command: [String], environment: [String: String], pipe: ChildPipe, shared: SupervisedProcessState) {
        self.command = command
        self.environment = environment
        self.pipe = pipe
        self.shared = shared
    }

    func run() {
        let processID: pid_t
        do {
            processID = try ChildSpawner.spawn(command, environment: environment, input: nil, output: pipe.writeEnd,
                                               error: pipe.writeEnd, ownProcessGroup: true)
        } catch {
            pipe.closeWriteEnd()
            pipe.closeReadEnd()
            shared.reportStart(.failure(error))
            shared.exited.leave()
            return
        }
        pipe.closeWriteEnd()
        shared.reportStart(.success(processID))
        drainOutput()
        var information = siginfo_t()
        while waitid(P_PID, id_t(processID), &information, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        shared.state.withLock { $0.hasExited = true }
        let status = ChildSpawner.reap(processID)
        shared.state.withLock { $0.exitStatus = status }
        shared.exited.leave()
    }

    /// Reads the child's output until it closes it (normally when it exits), keeping the tail.
    private func drainOutput() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(pipe.readEnd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            shared.state.withLock { state in
                state.output += buffer[..<count]
                let excess = state.output.count - SupervisedProcessState.outputLimit
                if excess > 0 { state.output.removeFirst(excess) }
            }
        }
        pipe.closeReadEnd()
    }
}
