import Glibc
import RiftSupport
import Testing

/// A 3-node nats-server cluster on free loopback ports, started by a test and stopped when dropped.
///
/// Each node has a configuration file in a private temporary directory (client port, monitoring port, and a
/// `cluster { routes = [...] }` block naming the two others); `start` returns once every node's monitoring page
/// `/routez` reports its two routes, so that interest and messages cross the cluster. Every wait is bounded.
final class NATSCluster {
    /// One nats-server process.
    struct Node {
        var name: String
        var clientPort: UInt16
        var clusterPort: UInt16
        var monitorPort: UInt16
        var process: SupervisedProcess
        var url: String { "nats://127.0.0.1:\(clientPort)" }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The nats-server program, or nil when it is not installed.
    static let serverPath: String? = Subprocess.executablePath(named: "nats-server")
        ?? (access("/usr/sbin/nats-server", X_OK) == 0 ? "/usr/sbin/nats-server" : nil)
    static let missingReason: Comment = "nats-server is not installed: deploy/install-deps.sh installs the nats-server package"

    private(set) var nodes: [Node] = []
    let directory: String

    /// Starts `count` nodes (3 by default) and waits up to `timeout` for every route to be up.
    init(count: Int = 3, timeout: Duration = .seconds(30)) throws {
        guard let serverPath = Self.serverPath else { throw Failure(description: "nats-server is not installed") }
        var template = Array("/tmp/riftgate-nats-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw Failure(description: "mkdtemp failed: errno \(errno)") }
        directory = String(cString: created)
        let ports = try FreePorts.take(count * 3)
        let clusterPorts = (0..<count).map { ports[$0 * 3 + 1] }
        for index in 0..<count {
            let name = "n\(index + 1)"
            let (client, cluster, monitor) = (ports[index * 3], ports[index * 3 + 1], ports[index * 3 + 2])
            let routes = clusterPorts.enumerated().filter { $0.offset != index }.map { "nats-route://127.0.0.1:\($0.element)" }
            let configuration = """
                server_name: \(name)
                listen: 127.0.0.1:\(client)
                http: 127.0.0.1:\(monitor)
                cluster {
                  name: riftgate-test
                  listen: 127.0.0.1:\(cluster)
                  routes = [
                    \(routes.joined(separator: "\n    "))
                  ]
                }

                """
            let path = "\(directory)/\(name).conf"
            try Self.write(configuration, to: path)
            let process = try SupervisedProcess([serverPath, "-c", path])
            nodes.append(Node(name: name, clientPort: client, clusterPort: cluster, monitorPort: monitor, process: process))
        }
        try waitForRoutes(timeout: timeout)
    }

    deinit {
        for node in nodes { node.process.terminate() }
        _ = try? Subprocess.run(["rm", "-rf", directory])
    }

    /// Kills node `index` with SIGKILL (no goodbye to its clients or routes) and waits for it to exit.
    func kill(_ index: Int) {
        nodes[index].process.send(SIGKILL)
        _ = nodes[index].process.waitForExit(timeout: .seconds(10))
    }

    /// Waits until every running node reports routes to all the other running nodes.
    func waitForRoutes(timeout: Duration) throws {
        let running = nodes.filter { $0.process.exitStatus == nil }
        let deadline = ContinuousClock.now + timeout
        for node in running {
            while true {
                if let routes = routeCount(node), routes >= running.count - 1 { break }
                if let status = node.process.exitStatus {
                    throw Failure(description: "nats-server \(node.name) exited (\(status)): \(node.process.recentOutput)")
                }
                guard ContinuousClock.now < deadline else {
                    throw Failure(description: "routes of \(node.name) not up within \(timeout): \(node.process.recentOutput)")
                }
                usleep(100_000)
            }
        }
    }

    /// `num_routes` from the node's monitoring page, or nil when it does not answer.
    private func routeCount(_ node: Node) -> Int? {
        guard let output = try? Subprocess.run(
            ["curl", "-sf", "--max-time", "2", "http://127.0.0.1:\(node.monitorPort)/routez"], timeout: .seconds(5))
        else { return nil }
        let text = output.text
        guard let key = text.firstRange(of: "\"num_routes\":") else { return nil }
        return Int(text[key.upperBound...].drop { $0 == " " }.prefix { $0.isNumber })
    }

    private static func write(_ text: String, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw Failure(description: "cannot create \(path): errno \(errno)") }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw Failure(description: "cannot write \(path): errno \(errno)") }
    }
}

/// Free TCP ports on 127.0.0.1: each is bound to port 0 to let the kernel choose, then released. All are held until
/// the last is chosen, so they differ; another process could still take one before nats-server binds it (unlikely on
/// a test machine; the cluster then fails to start with a clear message).
enum FreePorts {
    static func take(_ count: Int) throws -> [UInt16] {
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        var ports: [UInt16] = []
        for _ in 0..<count {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw NATSCluster.Failure(description: "socket failed: errno \(errno)") }
            descriptors.append(descriptor)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
                }
            }
            guard bound else { throw NATSCluster.Failure(description: "bind failed: errno \(errno)") }
            ports.append(UInt16(bigEndian: address.sin_port))
        }
        return ports
    }
}
