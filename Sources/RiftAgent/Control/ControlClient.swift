import FoundationEssentials
import RiftSupport
#if canImport(Glibc)
import Glibc
#endif

/// Talks to a running agent's control socket (for `riftgate status` and `riftgate down`).
public enum ControlClient {
    /// Sends `request` and returns the reply; fails with a message saying whether the agent is not running or
    /// this user may not talk to it.
    public static func request(_ request: String, socketPath: String) throws(AgentError) -> Data {
        let socket: OwnedDescriptor
        do { socket = OwnedDescriptor(try SystemCall.socket(AF_UNIX, .stream)) } catch {
            throw AgentError.system("socket: \(error.reason)")
        }
        let fd = socket.rawValue
        guard let address = SocketAddress(unixPath: socketPath) else { throw AgentError.configuration("control socket path is too long") }
        do { try SystemCall.connect(fd, to: address) } catch {
            switch error.code {
            case ENOENT, ECONNREFUSED: throw AgentError.system("riftgate is not running (no agent at \(socketPath))")
            case EACCES: throw AgentError.privilege("permission denied on \(socketPath): run as root or as a member of the riftgate group")
            default: throw AgentError.system("cannot reach the agent at \(socketPath): \(error.reason)")
            }
        }
        try? SystemCall.setTimeout(fd, SO_RCVTIMEO, .seconds(5))
        do { try SystemCall.sendAll(fd, Array((request + "\n").utf8)) } catch {
            throw AgentError.system("cannot send the request to the agent: \(error)")
        }
        var reply = Data()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            guard let count = try? SystemCall.read(fd, into: &buffer), count > 0 else { break }
            reply.append(contentsOf: buffer[0..<count])
        }
        guard !reply.isEmpty else { throw AgentError.system("the agent closed the control socket without answering") }
        return reply
    }

    /// The TURN servers and credentials the running agent holds (empty when the hub gave it none). Fails as `request`
    /// does, or with the agent's refusal when this user is neither root nor the agent's own.
    public static func turnServers(socketPath: String) throws(AgentError) -> [TURNCredentialSet] {
        let data = try request("turn", socketPath: socketPath)
        if let reply = try? JSONDecoder().decode(TURNCredentialSet.Reply.self, from: data) { return reply.turn }
        if let refusal = try? JSONDecoder().decode([String: String].self, from: data), let error = refusal["error"] {
            throw AgentError.privilege(error)
        }
        throw AgentError.system("unreadable TURN servers from the agent (an older agent?)")
    }

    /// The running agent's status.
    public static func status(socketPath: String) throws(AgentError) -> AgentStatus {
        let data = try request("status", socketPath: socketPath)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(AgentStatus.self, from: data) } catch {
            throw AgentError.system("unreadable status from the agent: \(error)")
        }
    }
}
