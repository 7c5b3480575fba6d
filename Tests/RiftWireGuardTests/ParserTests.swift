import RiftProtocol
import Testing
@testable import RiftWireGuard

@Suite("Parsing what WireGuard reports")
struct ParserTests {
    static let ourKey = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
    static let peerA = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
    static let peerB = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="

    @Test("wg show dump: interface line and peers, with (none) and off")
    func kernelDump() throws {
        let dump = """
            \(Self.ourKey)\tHIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=\t51820\toff
            \(Self.peerA)\t(none)\t192.0.2.7:51821\t100.64.0.3/32,fd7a:115c:a1e0::3/128\t1700000000\t2048\t4096\t25
            \(Self.peerB)\t(none)\t(none)\t(none)\t0\t0\t0\toff

            """
        let status = try WireGuardTool.parseDump(Array(dump.utf8))
        #expect(status.listenPort == 51820)
        #expect(status.publicKey == (try PublicKey(base64: "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=")))
        #expect(status.peers.count == 2)
        let first = try #require(status.peers.first)
        #expect(first.publicKey == (try PublicKey(base64: Self.peerA)))
        #expect(first.endpoint == "192.0.2.7:51821")
        #expect(first.allowedIPs == ["100.64.0.3/32", "fd7a:115c:a1e0::3/128"])
        #expect(first.lastHandshake == 1_700_000_000)
        #expect(first.rxBytes == 2048 && first.txBytes == 4096)
        #expect(first.persistentKeepalive == 25)
        let second = status.peers[1]
        #expect(second.endpoint == nil && second.allowedIPs.isEmpty && second.lastHandshake == nil)
        #expect(second.persistentKeepalive == nil)
    }

    @Test("wg show dump: a device without keys and peers")
    func kernelDumpWithoutKey() throws {
        let status = try WireGuardTool.parseDump(Array("(none)\t(none)\t0\toff\n".utf8))
        #expect(status.publicKey == nil && status.listenPort == 0 && status.peers.isEmpty)
    }

    @Test("wg show dump: malformed output is rejected", arguments: [
        "", "only\tthree\tfields\n", "(none)\t(none)\tport\toff\n",
        "(none)\t(none)\t0\toff\n\(peerA)\t(none)\t(none)\t(none)\t0\t0\n",
        "(none)\t(none)\t0\toff\nnotakey\t(none)\t(none)\t(none)\t0\t0\t0\toff\n",
    ])
    func kernelDumpMalformed(_ text: String) {
        #expect(throws: WireGuardError.self) { try WireGuardTool.parseDump(Array(text.utf8)) }
    }

    @Test("UAPI get answer: device and peers; the private key line is dropped")
    func uapiGet() throws {
        let keyA = try PublicKey(base64: Self.peerA)
        let answer = """
            private_key=\(String(repeating: "ab", count: 32))
            listen_port=40000
            public_key=\(keyA.hex)
            preshared_key=\(String(repeating: "00", count: 32))
            protocol_version=1
            endpoint=[2001:db8::1]:51820
            last_handshake_time_sec=1700000001
            last_handshake_time_nsec=5
            tx_bytes=92
            rx_bytes=180
            persistent_keepalive_interval=0
            allowed_ip=100.64.0.3/32
            allowed_ip=fd7a:115c:a1e0::3/128
            future_key=ignored
            errno=0


            """
        let lines = try UAPILine.parseResponse(Array(answer.utf8), from: "test")
        #expect(!lines.contains { $0.key == "private_key" || $0.key == "errno" })
        let status = try UAPIStatus.parse(lines, publicKey: nil)
        #expect(status.listenPort == 40000)
        let peer = try #require(status.peer(keyA))
        #expect(peer.endpoint == "[2001:db8::1]:51820")
        #expect(peer.lastHandshake == 1_700_000_001)
        #expect(peer.txBytes == 92 && peer.rxBytes == 180)
        #expect(peer.persistentKeepalive == nil)
        #expect(peer.allowedIPs == ["100.64.0.3/32", "fd7a:115c:a1e0::3/128"])
    }

    @Test("UAPI answer: a negative errno becomes a positive error number")
    func uapiErrno() {
        #expect {
            try UAPILine.parseResponse(Array("errno=-98\n\n".utf8), from: "test")
        } throws: { ($0 as? WireGuardError)?.errno == 98 && ($0 as? WireGuardError)?.code == .controlFailed }
    }

    @Test("UAPI answer: the most negative errno is an error, not a trap (negating Int32.min overflowed)")
    func uapiErrnoMinimum() {
        #expect {
            try UAPILine.parseResponse(Array("errno=-2147483648\n\n".utf8), from: "test")
        } throws: { ($0 as? WireGuardError)?.errno == Int32.max && ($0 as? WireGuardError)?.code == .controlFailed }
    }

    @Test("UAPI answer: missing errno or a line without = is rejected", arguments: ["listen_port=1\n\n", "garbage\nerrno=0\n\n", ""])
    func uapiMalformed(_ text: String) {
        #expect(throws: WireGuardError.self) { try UAPILine.parseResponse(Array(text.utf8), from: "test") }
    }
}
