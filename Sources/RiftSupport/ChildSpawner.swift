internal import CRiftLinux
import Glibc

/// Held while a child is spawned. Pipes are made close-on-exec atomically (`SystemCall.pipe`, `pipe2`), so no
/// child started through this module inherits another child's pipe end; the lock keeps spawns in order.
/// Descriptors opened elsewhere in the process need not be close-on-exec: every child has all descriptors
/// above standard error closed (`posix_spawn_file_actions_addclosefrom_np`), whoever opened them.
private let spawnLock = Locked(())

/// Starts child processes with `posix_spawnp` and reaps them. All `posix_spawn` calls live here.
enum ChildSpawner {
    /// Spawns `command` with the given descriptors as its standard streams (`/dev/null` where nil).
    ///
    /// The child gets default dispositions for every signal and an empty signal mask, whatever this
    /// process ignores or blocks for its own signal handling. With `ownProcessGroup` the child leads
    /// a new process group, so a terminal's Ctrl-C reaches only us and we stop it in order.
    /// Fails with `.notFound` when the program is not in `PATH`, `.spawnFailed` otherwise.
    static func spawn(
        _ command: [String], environment: [String: String], input: Int32?, output: Int32?, error: Int32?,
        ownProcessGroup: Bool
    ) throws(SubprocessError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (descriptor, target, mode) in [(input, Int32(0), O_RDONLY), (output, 1, O_WRONLY), (error, 2, O_WRONLY)] {
            if let descriptor {
                posix_spawn_file_actions_adddup2(&actions, descriptor, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", mode, 0)
            }
        }
        // Not every library opens its descriptors close-on-exec: Foundation's `Process` keeps a socketpair
        // end without it while it spawns, and waits for that socket's end of file to learn its child exited.
        // A long-lived child of ours (a daemonising PostgreSQL, wireguard-go) that inherited such an end
        // made that wait last as long as our child did.
        let closing = CRiftLinux_spawn_close_from(&actions, 3)
        guard closing == 0 else { throw SubprocessError(.spawnFailed, command: command, errno: closing) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            flags |= POSIX_SPAWN_SETPGROUP
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var arguments = command.map { strdup($0) } + [nil]
        var variables = mergedEnvironment(environment).map { strdup($0) } + [nil]
        defer {
            arguments.forEach { free($0) }
            variables.forEach { free($0) }
        }
        var processID: pid_t = 0
        let result = spawnLock.withLock { _ in
            posix_spawnp(&processID, arguments[0]!, &actions, &attributes, &arguments, &variables)
        }
        guard result == 0 else {
            throw SubprocessError(result == ENOENT ? .notFound : .spawnFailed, command: command, errno: result)
        }
        return processID
    }

    /// Waits for `processID` to exit and collects it; retries when interrupted by a signal.
    static func reap(_ processID: pid_t) -> ExitStatus {
        var status: Int32 = 0
        while waitpid(processID, &status, 0) < 0 {
            guard errno == EINTR else { return .exited(-1) }
        }
        return ExitStatus(waitStatus: status)
    }

    /// This process's environment with `overrides` added or replaced.
    private static func mergedEnvironment(_ overrides: [String: String]) -> [String] {
        var entries: [String] = []
        var index = 0
        while let entry = environ[index] {
            let text = String(cString: entry)
            let name = String(text.prefix(while: { $0 != "=" }))
            if overrides[name] == nil { entries.append(text) }
            index += 1
        }
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) { entries.append("\(name)=\(value)") }
        return entries
    }
}

/// A pipe between us and one child, both ends close-on-exec until `posix_spawn` duplicates one.
struct ChildPipe {
    let readEnd: Int32
    let writeEnd: Int32

    /// Creates the pipe; fails with `.ioFailed` (and the errno) when the process is out of descriptors.
    static func make(for command: [String]) throws(SubprocessError) -> ChildPipe {
        do {
            let ends = try SystemCall.pipe()
            return ChildPipe(readEnd: ends.read, writeEnd: ends.write)
        } catch {
            throw SubprocessError(.ioFailed, command: command, errno: error.code, reason: "could not create a pipe")
        }
    }

    func closeReadEnd() { close(readEnd) }
    func closeWriteEnd() { close(writeEnd) }
}

/// Standard output and standard error read from a child until both reach end of file.
struct ChildOutput {
    var output: [UInt8] = []
    var error: [UInt8] = []
    /// Why reading stopped early, if it did.
    var failure: String?

    /// Reads both descriptors until end of file; false when `deadline` passed first, reading failed,
    /// or the output grew past `Subprocess.maximumOutputCount`.
    mutating func read(output outputEnd: Int32, error errorEnd: Int32, until deadline: ContinuousClock.Instant) -> Bool {
        var watched = [pollfd(fd: outputEnd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: errorEnd, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 16384)
        while watched.contains(where: { $0.fd >= 0 }) {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return false }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            do { try SystemCall.poll(&watched, timeoutMilliseconds: milliseconds) } catch {
                failure = "poll failed: \(error.reason)"
                return false
            }
            for index in watched.indices where watched[index].fd >= 0 && watched[index].revents != 0 {
                let count: Int
                do { count = try SystemCall.read(watched[index].fd, into: &buffer) } catch where error.code == EAGAIN { continue } catch {
                    count = 0  // a read error ends this stream as end of file does
                }
                if count > 0 {
                    if index == 0 { output += buffer[..<count] } else { error += buffer[..<count] }
                } else {
                    watched[index].fd = -1  // poll skips negative descriptors
                }
            }
            if error.count > 65536 { error.removeFirst(error.count - 65536) }
            if output.count > Subprocess.maximumOutputCount {
                failure = "printed more than \(Subprocess.maximumOutputCount) bytes"
                return false
            }
        }
        return true
    }
}
