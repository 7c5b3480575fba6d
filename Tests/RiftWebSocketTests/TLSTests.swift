import Foundation
import RiftWebSocket
import Testing

extension LoopbackTests {
    @Suite(
        "wss:// with certificate and host name verification",
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"),
            "needs the openssl command-line tool (Debian package openssl) to make test certificates"))
    struct TLSTests {
        @Test("a client trusting the test CA connects and exchanges messages; one using the system store is refused")
        func verifiedAgainstCAFile() async throws {
            let certificates = try TestCertificates()
            let handler = RecordingHandler()
            let server = try startServer(handler) {
                $0.tls = TLSFiles(certificatePath: certificates.certificatePath, privateKeyPath: certificates.privateKeyPath)
            }
            defer { server.shutdown() }

            let trusting = try ClientProbe("wss://127.0.0.1:\(server.boundPort)/tls") { $0.caFile = certificates.caPath }
            try await trusting.waitConnected()
            trusting.client.send("over TLS")
            #expect(try await trusting.waitTexts(1) == ["over TLS"])
            #expect(handler.opened.first?.1.path == "/tls")

            let byName = try ClientProbe("wss://localhost:\(server.boundPort)/") { $0.caFile = certificates.caPath }
            try await byName.waitConnected()

            let systemStore = try ClientProbe("wss://127.0.0.1:\(server.boundPort)/")
            let refused = try await systemStore.waitClosed()
            #expect(refused.code == nil)
            #expect(refused.reason == "TLS certificate verification failed for 127.0.0.1:\(server.boundPort): unable to get local issuer certificate")
        }

        @Test("a certificate for another name is refused even when its CA is trusted")
        func hostNameChecked() async throws {
            let certificates = try TestCertificates(subjectAltName: "DNS:hub.riftgate.test")
            let server = try startServer(RecordingHandler()) {
                $0.tls = TLSFiles(certificatePath: certificates.certificatePath, privateKeyPath: certificates.privateKeyPath)
            }
            defer { server.shutdown() }
            let probe = try ClientProbe("wss://127.0.0.1:\(server.boundPort)/") { $0.caFile = certificates.caPath }
            let refused = try await probe.waitClosed()
            #expect(refused.reason == "TLS certificate verification failed for 127.0.0.1:\(server.boundPort): IP address mismatch")
        }

        @Test("a certificate and key that do not match are refused at start")
        func mismatchedKey() throws {
            let certificates = try TestCertificates()
            let other = try TestCertificates()
            let error = #expect(throws: WebSocketError.self) {
                _ = try startServer(RecordingHandler()) {
                    $0.tls = TLSFiles(certificatePath: certificates.certificatePath, privateKeyPath: other.privateKeyPath)
                }
            }
            #expect(error?.reason.contains("key values mismatch") == true)
        }
    }
}
