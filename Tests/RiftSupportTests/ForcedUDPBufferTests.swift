import RiftSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `SystemCall.forceUDPBuffers(ofProcess:bytes:)`, run on this test process itself (pidfd_getfd works on one's own
/// descriptors as on a child's such as wireguard-go).
@Suite("Forced UDP buffers: another process's UDP sockets raised through pidfd_getfd")
struct ForcedUDPBufferTests {
    static let size: Int32 = 1 << 20

    private func udpSocket(receiveBuffer: Int32, forced: Bool = false) throws -> Int32 {
        let socket = try SystemCall.socket(AF_INET, .datagram)
        try SystemCall.setOption(socket, level: SOL_SOCKET, forced ? SO_RCVBUFFORCE : SO_RCVBUF, receiveBuffer)
        try SystemCall.bind(socket, to: .loopbackIPv4(port: 0))
        return socket
    }

    @Test("a UDP socket with small buffers gets the size asked for, in both directions",
          .enabled(if: geteuid() == 0, "SO_RCVBUFFORCE needs CAP_NET_ADMIN"))
    func raisesSmallBuffers() throws {
        let socket = try udpSocket(receiveBuffer: 65536)
        defer { close(socket) }
        let raised = try SystemCall.forceUDPBuffers(ofProcess: getpid(), bytes: Self.size)
        #expect(raised >= 1)
        // The kernel reports twice the size set (its bookkeeping overhead).
        #expect(try SystemCall.option(socket, level: SOL_SOCKET, SO_RCVBUF) == 2 * Self.size)
        #expect(try SystemCall.option(socket, level: SOL_SOCKET, SO_SNDBUF) >= 2 * Self.size)
    }

    @Test("a buffer already larger is kept (newer wireguard-go sets 7 MiB itself)",
          .enabled(if: geteuid() == 0, "SO_RCVBUFFORCE needs CAP_NET_ADMIN"))
    func keepsLargerBuffers() throws {
        let socket = try udpSocket(receiveBuffer: 8 << 20, forced: true)
        defer { close(socket) }
        _ = try SystemCall.forceUDPBuffers(ofProcess: getpid(), bytes: Self.size)
        #expect(try SystemCall.option(socket, level: SOL_SOCKET, SO_RCVBUF) == 16 << 20)
    }

    @Test("TCP and unix datagram sockets are left alone")
    func leavesOtherSocketsAlone() throws {
        let stream = try SystemCall.socket(AF_INET, .stream)
        defer { close(stream) }
        try SystemCall.setOption(stream, level: SOL_SOCKET, SO_RCVBUF, Int32(65536))
        var pair: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0, &pair) == 0)
        defer { close(pair[0]); close(pair[1]) }
        try SystemCall.setOption(pair[0], level: SOL_SOCKET, SO_RCVBUF, Int32(65536))
        _ = try? SystemCall.forceUDPBuffers(ofProcess: getpid(), bytes: Self.size)
        #expect(try SystemCall.option(stream, level: SOL_SOCKET, SO_RCVBUF) == 131072)
        #expect(try SystemCall.option(pair[0], level: SOL_SOCKET, SO_RCVBUF) == 131072)
    }

    @Test("a process that does not exist is an error, not zero sockets")
    func missingProcessThrows() {
        // Above the default pid_max (4194304 at most on 64-bit kernels), so no process has it.
        #expect(throws: SystemCallError.self) { try SystemCall.forceUDPBuffers(ofProcess: 5_000_000, bytes: Self.size) }
    }
}
