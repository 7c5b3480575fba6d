import Foundation
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// One PostgreSQL server per test process, started on first use by `Tests/support/postgres-test-server.sh` (a
/// temporary data directory, a free loopback port) and removed when the process exits; each test asks it for a
/// database of its own.
///
/// `shared` is nil when the server binaries are absent (`unavailableReason` says why); tests then skip their
/// PostgreSQL cases. Any other failure to start is a test failure, not a skip.
public final class PostgresTestServer: Sendable {
    /// The data, socket and log directory.
    public let directory: String
    /// The loopback TCP port it listens on.
    public let port: Int

    private static let script = GoldenVectors.repositoryRoot.appendingPathComponent("Tests/support/postgres-test-server.sh").path
    private static let started: Result<PostgresTestServer, PostgresTestServerError> = start()
    private static let counter = NSLock()
    nonisolated(unsafe) private static var databases = 0

    /// The server, started on first use; nil when PostgreSQL is not installed.
    public static var shared: PostgresTestServer? {
        get throws {
            switch started {
            case .success(let server): return server
            case .failure(let error) where error.absent: return nil
            case .failure(let error): throw error
            }
        }
    }

    /// Whether PostgreSQL's server binaries are installed (as in CI); without them PostgreSQL cases are skipped.
    public static let isInstalled: Bool =
        ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .contains { FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb") }

    /// Why PostgreSQL cases are skipped here.
    public static let unavailableReason = "PostgreSQL server binaries absent (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql"

    private init(directory: String, port: Int) {
        self.directory = directory
        self.port = port
    }

    /// The URL of the maintenance database `postgres`.
    public var adminURL: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    /// Creates an empty database with a name of its own and returns its URL.
    public func createDatabase() throws -> String {
        let name = Self.counter.withLock { () -> String in
            Self.databases += 1
            return "test_\(getpid())_\(Self.databases)"
        }
        try runScriptless(["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", "postgres", "-q", "-c", "CREATE DATABASE \(name)"])
        return "postgres://postgres@127.0.0.1:\(port)/\(name)"
    }

    /// Stops the server (as if PostgreSQL went away); `start()` brings it back on the same port with the same data.
    public func stop() throws { _ = try Self.runScript(["stop", directory]) }

    /// Starts the stopped server again.
    public func start() throws { _ = try Self.runScript(["start", directory]) }

    /// A server of the caller's own, for a test that stops and starts it; `destroy()` removes it (else it goes
    /// when the test process exits).
    public static func startPrivate() throws -> PostgresTestServer {
        guard isInstalled else { throw PostgresTestServerError(reason: unavailableReason, absent: true) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("riftgate-pg-\(UUID().uuidString)").path
        let output = try runScript(["start", directory, "\(getpid())"])
        guard let port = Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw PostgresTestServerError(reason: "postgres-test-server.sh printed \(output)", absent: false)
        }
        return PostgresTestServer(directory: directory, port: port)
    }

    /// Stops the server and removes its directory.
    public func destroy() { _ = try? Self.runScript(["destroy", directory]) }

    private func runScriptless(_ arguments: [String]) throws {
        do {
            _ = try Subprocess.run(["psql"] + arguments, timeout: .seconds(60))
        } catch {
            throw PostgresTestServerError(reason: "psql failed: \(error)", absent: false)
        }
    }

    private static func start() -> Result<PostgresTestServer, PostgresTestServerError> {
        guard isInstalled else { return .failure(PostgresTestServerError(reason: unavailableReason, absent: true)) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("riftgate-pg-\(UUID().uuidString)").path
        do {
            let output = try runScript(["start", directory, "\(getpid())"])
            guard let port = Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                return .failure(PostgresTestServerError(reason: "postgres-test-server.sh printed \(output)", absent: false))
            }
            serverDirectory = strdup(directory)
            atexit { if let directory = serverDirectory { _ = try? PostgresTestServer.runScript(["destroy", String(cString: directory)]) } }
            return .success(PostgresTestServer(directory: directory, port: port))
        } catch let error as PostgresTestServerError {
            return .failure(error)
        } catch {
            return .failure(PostgresTestServerError(reason: "\(error)", absent: false))
        }
    }

    /// Runs the helper script and returns what it printed; fails with its error output when it fails.
    private static func runScript(_ arguments: [String]) throws -> String {
        do {
            return try Subprocess.run(["/bin/sh", script] + arguments, timeout: .seconds(120)).text
        } catch {
            let absent: Bool
            if case .exited(let code) = error.kind { absent = code == 77 } else { absent = false }
            throw PostgresTestServerError(reason: "postgres-test-server.sh \(arguments.first ?? "") failed: \(error)", absent: absent)
        }
    }
}

/// The directory to remove at exit (a C string: `atexit` takes a function without context).
nonisolated(unsafe) private var serverDirectory: UnsafeMutablePointer<CChar>?

/// The test PostgreSQL server could not be started; `absent` when PostgreSQL is not installed.
public struct PostgresTestServerError: Error, CustomStringConvertible {
    /// What went wrong.
    public var reason: String
    /// Whether the server binaries are missing (a reason to skip rather than fail).
    public var absent: Bool

    public var description: String { reason }
}
