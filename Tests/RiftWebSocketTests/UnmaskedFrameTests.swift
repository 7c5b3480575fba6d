import RiftSupport
import RiftWebSocket
import Testing

/// A detector the test drives: it flags what the test tells it to, and records what the server asked of it.
/// (The hub's real one, `CRiftFrameGuard`, interposes `recv` and is linked into the hub executable only.)
final class ScriptedFrameDetector: UnmaskedFrameDetector {
    struct State {
        var watched: [Int32: UInt] = [:]
        var everWatched: [(descriptor: Int32, token: UInt)] = []
        var forgotten: [(descriptor: Int32, token: UInt)] = []
        var flagged: Set<Int32> = []
        var offenders: [UInt] = []
    }
    let state = Locked(State())

    func watch(descriptor: Int32, token: UInt, tls: Bool) -> Bool {
        state.withLock {
            $0.watched[descriptor] = token
            $0.everWatched.append((descriptor, token))
        }
        return true
    }

    func forget(descriptor: Int32, token: UInt) {
        state.withLock {
            if $0.watched[descriptor] == token { $0.watched[descriptor] = nil }
            $0.forgotten.append((descriptor, token))
        }
    }

    func sawUnmaskedFrame(descriptor: Int32) -> Bool { state.withLock { $0.flagged.contains(descriptor) } }

    func nextOffender() -> UInt? { state.withLock { $0.offenders.isEmpty ? nil : $0.offenders.removeFirst() } }

    /// Flags the socket watched last, as the real detector does when its client's frame header has no mask bit;
    /// `asOffender: false` leaves it out of `nextOffender`, so only the server's per-frame check can find it.
    func flagNewest(asOffender: Bool = true) throws {
        try state.withLock { state throws in
            let newest = try #require(state.everWatched.last)
            state.flagged.insert(newest.descriptor)
            if asOffender { state.offenders.append(newest.token) }
        }
    }
}

extension LoopbackTests {
    @Suite("a client flagged for an unmasked frame is closed with 1002 (RFC 6455 §5.1)")
    struct UnmaskedFrameTests {
        @Test("a flagged ping (no callback of its own) closes the connection; a bystander is still served")
        func flaggedPingCloses() async throws {
            let handler = RecordingHandler()
            let detector = ScriptedFrameDetector()
            let server = try startServer(handler) { $0.unmaskedFrameDetector = detector }
            defer { server.shutdown() }
            let bystander = try ClientProbe(port: server.boundPort)
            try await bystander.waitConnected()
            let offender = try RawWebSocketPeer(port: server.boundPort)
            try await waitUntil("both connections open") { handler.openedIDs.count == 2 }
            try detector.flagNewest()
            try offender.sendFrame(opcode: 0x9, payload: Array("ping".utf8), final: true)
            #expect(try offender.receiveCloseCode() == 1002)  // after the pong lws sends by itself
            bystander.client.send("still here")
            #expect(try await bystander.waitTexts(1) == ["still here"])
        }

        @Test("a message from a flagged connection never reaches the handler")
        func flaggedMessageDropped() async throws {
            let handler = RecordingHandler()
            let detector = ScriptedFrameDetector()
            let server = try startServer(handler) { $0.unmaskedFrameDetector = detector }
            defer { server.shutdown() }
            let peer = try RawWebSocketPeer(port: server.boundPort)
            try peer.sendText("before")
            try await waitUntil("the first message") { handler.events.contains { if case .received = $0 { true } else { false } } }
            try detector.flagNewest(asOffender: false)
            try peer.sendText("after")
            #expect(try peer.receiveCloseCode() == 1002)
            try await waitUntil("the server to drop the connection") { handler.closedIDs.count == 1 }
            let id = try #require(handler.openedIDs.first)
            #expect(handler.received(on: id) == ["before"])
        }

        @Test("every watched socket is forgotten with its own token, and sockets are watched before any read")
        func watchedSocketsAreForgotten() async throws {
            let handler = RecordingHandler()
            let detector = ScriptedFrameDetector()
            let server = try startServer(handler) { $0.unmaskedFrameDetector = detector }
            for _ in 0..<3 {
                let probe = try ClientProbe(port: server.boundPort)
                try await probe.waitConnected()
                probe.client.close()
            }
            // A plain HTTP request is watched too: the same socket may upgrade later (keep-alive).
            do {
                let raw = try RawSocket.connect(port: server.boundPort)
                try raw.send("GET /nothing HTTP/1.1\r\nHost: test\r\n\r\n")
                _ = try raw.receive(through: "\r\n\r\n")
            }
            try await waitUntil("four sockets forgotten") { detector.state.withLock { $0.forgotten.count } == 4 }
            server.shutdown()
            let state = detector.state.withLock { $0 }
            #expect(state.everWatched.count == 4)
            #expect(state.watched.isEmpty)
            #expect(state.forgotten.map(\.token).sorted() == state.everWatched.map(\.token).sorted())
            #expect(state.forgotten.map(\.descriptor).sorted() == state.everWatched.map(\.descriptor).sorted())
        }
    }
}
