import Foundation
import RiftWebSocket
import Testing

extension LoopbackTests {
    /// `maximumPendingConnectionsPerAddress` on a real server, loopback counted like any address: what is bounded is the
    /// connections that have not finished their upgrade, never the upgraded ones (many agents behind one NAT).
    @Suite("one address may hold only so many connections waiting for their upgrade")
    struct PendingLimitTests {
        /// Opens `count` clients one after the other, each upgraded before the next starts; all must get in.
        private func upgradeOneByOne(_ count: Int, _ url: String, caFile: String? = nil) async throws -> [ClientProbe] {
            var probes: [ClientProbe] = []
            for _ in 0..<count {
                let probe = try ClientProbe(url) { $0.caFile = caFile }
                try await probe.waitConnected()
                probes.append(probe)
            }
            return probes
        }

        /// Three idle sockets against a limit of 2: the third is closed at once, and the handler hears why.
        private func expectThirdIdleSocketRefused(port: UInt16, handler: RecordingHandler) throws -> [RawSocket] {
            let idle = try (0..<2).map { _ in try RawSocket.connect(port: port) }
            let third = try RawSocket.connect(port: port)
            #expect(try third.waitForEnd(timeout: .seconds(5)), "the connection past the limit was not closed")
            #expect(try !idle[0].waitForEnd(timeout: .milliseconds(200)), "a connection within the limit was closed")
            #expect(handler.refusals == [.tooManyPending(from: "127.0.0.1")])
            return idle
        }

        private func limitedConfiguration(_ configuration: inout WebSocketServer.Configuration) {
            configuration.maximumPendingConnectionsPerAddress = 2
            configuration.pendingLimitExemptsLoopback = false
        }

        @Test("over ws://: five clients upgrade one by one past a limit of 2, then idle sockets are bounded")
        func plain() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler, limitedConfiguration)
            defer { server.shutdown() }
            let clients = try await upgradeOneByOne(5, "ws://127.0.0.1:\(server.boundPort)/")
            #expect(handler.openedIDs.count == 5)
            _ = try expectThirdIdleSocketRefused(port: server.boundPort, handler: handler)
            #expect(clients.count == 5)
        }

        @Test(
            "over wss://: the same once the TLS handshake and the upgrade are done",
            .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs the openssl tool"))
        func tls() async throws {
            let certificates = try TestCertificates()
            let handler = RecordingHandler()
            let server = try startServer(handler) {
                limitedConfiguration(&$0)
                $0.tls = TLSFiles(certificatePath: certificates.certificatePath, privateKeyPath: certificates.privateKeyPath)
            }
            defer { server.shutdown() }
            let clients = try await upgradeOneByOne(5, "wss://127.0.0.1:\(server.boundPort)/", caFile: certificates.caPath)
            #expect(handler.openedIDs.count == 5)
            _ = try expectThirdIdleSocketRefused(port: server.boundPort, handler: handler)
            #expect(clients.count == 5)
        }

        @Test("with the default configuration loopback is not limited")
        func loopbackExempt() async throws {
            let handler = RecordingHandler()
            let server = try startServer(handler) { $0.maximumPendingConnectionsPerAddress = 1 }
            defer { server.shutdown() }
            let idle = try (0..<4).map { _ in try RawSocket.connect(port: server.boundPort) }
            #expect(try !idle[3].waitForEnd(timeout: .milliseconds(300)))
            #expect(handler.refusals.isEmpty)
        }
    }
}
