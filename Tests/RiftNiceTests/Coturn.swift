import Foundation
import Testing

/// A real coturn `turnserver` on 127.0.0.1 with one long-term user, for relay tests.
final class Coturn {
    /// The installed `turnserver`, or nil (relay tests are then skipped, saying why).
    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/usr/sbin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin", "/usr/local/bin"]
        return directories.map { $0 + "/turnserver" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    let port: UInt16
    let username = "u"
    let password = "p"
    private let process: Process
    private let directory: URL

    /// Starts coturn on a random port and waits (at most 5 s per attempt, 3 attempts) until its UDP listener
    /// is open. Throws with coturn's log when it does not come up.
    init() async throws {
        let executable = try #require(Self.executable)
        var lastLog = ""
        for _ in 0..<3 {
            let port = UInt16.random(in: 20_000...40_000)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("riftnice-coturn-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let logURL = directory.appendingPathComponent("turnserver.log")
            _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = [
                "-n", "-v", "--no-cli", "--lt-cred-mech", "--user", "u:p", "--realm", "test",
                "--no-tls", "--no-dtls", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
                "--allow-loopback-peers", "--listening-port", String(port),
                "--min-port", String(port + 1), "--max-port", String(port + 200),
                "--log-file", "stdout", "--simple-log", "--pidfile", directory.appendingPathComponent("pid").path,
                "--userdb", directory.appendingPathComponent("turndb").path,
            ]
            let log = try FileHandle(forWritingTo: logURL)
            process.standardOutput = log
            process.standardError = log
            try process.run()
            let ready = await eventually(within: .seconds(5)) {
                let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
                return !process.isRunning || text.contains("UDP listener opened on: 127.0.0.1:\(port)")
            }
            if ready && process.isRunning {
                self.port = port
                self.process = process
                self.directory = directory
                return
            }
            lastLog = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            Self.stop(process)
            try? FileManager.default.removeItem(at: directory)
        }
        throw CoturnDidNotStart(log: String(lastLog.suffix(2000)))
    }

    /// What coturn has logged so far (`-v`: one line per allocation, refresh and permission).
    var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("turnserver.log"), encoding: .utf8)) ?? ""
    }

    /// Stops coturn and removes its files.
    func stop() {
        Self.stop(process)
        try? FileManager.default.removeItem(at: directory)
    }

    /// SIGKILL: a throwaway server has nothing to flush, and the test runner's blocked-signal mask, which
    /// children inherit, can leave SIGTERM pending forever. The child is reaped here, within 5 s, instead of with
    /// `Process.waitUntilExit()`, which waits for end of file on a socket the child inherited: a child spawned at the
    /// same moment by other code could hold that socket too (seen in a clean-clone CI run: turnserver a zombie, the unit
    /// tests stuck for 18 minutes in `relayedPair`; `ChildSpawner` now closes such descriptors in its children).
    private static func stop(_ process: Process) {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        kill(pid, SIGKILL)
        var status: Int32 = 0
        for _ in 0..<500 {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped == -1 && errno == ECHILD) { return }  // ours, or Foundation got it first
            usleep(10_000)
        }
    }
}

struct CoturnDidNotStart: Error, CustomStringConvertible {
    let log: String
    var description: String { "turnserver did not open its UDP listener; log tail:\n\(log)" }
}
