import RiftSupport
import RiftWebSocket
import Testing

/// A watcher the test drives: it flags and reports what the test tells it to, and records what the server asked of it.
/// (The hub's real one, `CRiftFrameGuard`, interposes `recv` and is linked into the hub executable only.)
final class ScriptedFrameWatcher: FrameStreamWatcher {
    struct State {
        var watched: [Int32: UInt] = [:]
        var everWatched: [(descriptor: Int32, token: UInt)] = []
        var forgotten: [(descriptor: Int32, token: UInt)] = []
        var flagged: Set<Int32> = []
        var reports: [FrameStreamReport] = []
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

    func nextReport() -> FrameStreamReport? { state.withLock { $0.reports.isEmpty ? nil : $0.reports.removeFirst() } }

    /// Flags the socket watched last, as the real watcher does when its client's frame header has no mask bit;
    /// `asReport: false` leaves it out of `nextReport`, so only the server's per-frame check can find it.
    func flagNewest(asReport: Bool = true) throws {
        try state.withLock { state throws in
            let newest = try #require(state.everWatched.last)
            state.flagged.insert(newest.descriptor)
            if asReport { state.reports.append(FrameStreamReport(token: newest.token, unmasked: true, controlFrames: 0)) }
        }
    }

    /// Reports `count` control frames from the socket watched last, taken at the end of the server's next pass.
    func reportControlFramesOfNewest(_ count: Int) throws {
        try state.withLock { state throws in
            let newest = try #require(state.everWatched.last)
            state.reports.append(FrameStreamReport(token: newest.token, unmasked: false, controlFrames: count))
        }
    }
}

extension LoopbackTests {
    @Suite("what the frame watcher reports: an unmasked frame closes with 1002 (RFC 6455 §5.1), control frames charge the budget")
    struct FrameStreamWatcherTests {
        @Test("a flagged ping (no callback of its own) closes the connection; a bystander is still served")
        func flaggedPingCloses() async throws {
            let handler = RecordingHandler()
            let watcher = ScriptedFrameWatcher()
            let server = try startServer(handler) { $0.frameStreamWatcher = watcher }
            defer { server.shutdown() }
            let bystander = try ClientProbe(port: server.boundPort)
            try await bystander.waitConnected()
            let offender = try RawWebSocketPeer(port: server.boundPort)
            try await waitUntil("both connections open") { handler.openedIDs.count == 2 }
            try watcher.flagNewest()
            try offender.sendFrame(opcode: 0x9, payload: Array("ping".utf8), final: true)
            #expect(try offender.receiveCloseCode() == 1002)  // after the pong lws sends by itself
            bystander.client.send("still here")
            #expect(try await bystander.waitTexts(1) == ["still here"])
        }

        @Test("a message from a flagged connection never reaches the handler")
        func flaggedMessageDropped() async throws {
            let handler = RecordingHandler()
            let watcher = ScriptedFrameWatcher()
            let server = try startServer(handler) { $0.frameStreamWatcher = watcher }
            defer { server.shutdown() }
            let peer = try RawWebSocketPeer(port: server.boundPort)
            try peer.sendText("before")
            try await waitUntil("the first message") { handler.events.contains { if case .received = $0 { true } else { false } } }
            try watcher.flagNewest(asReport: false)
            try peer.sendText("after")
            #expect(try peer.receiveCloseCode() == 1002)
            try await waitUntil("the server to drop the connection") { handler.closedIDs.count == 1 }
            let id = try #require(handler.openedIDs.first)
            #expect(handler.received(on: id) == ["before"])
        }

        @Test("control frames reported beyond the frame budget close the connection with 1008; within it they do not")
        func controlFramesChargeTheFrameBudget() async throws {
            let handler = RecordingHandler()
            let watcher = ScriptedFrameWatcher()
            let server = try startServer(handler) {
                $0.frameStreamWatcher = watcher
                $0.frameBurst = 100
                $0.framesPerSecond = 1
            }
            defer { server.shutdown() }
            let bystander = try ClientProbe(port: server.boundPort)
            try await bystander.waitConnected()
            let flooder = try RawWebSocketPeer(port: server.boundPort)
            try await waitUntil("both connections open") { handler.openedIDs.count == 2 }
            try watcher.reportControlFramesOfNewest(64)
            try flooder.sendText("within the budget")  // a pass: the report is taken at its end
            try await waitUntil("the message") { handler.events.contains { if case .received = $0 { true } else { false } } }
            try watcher.reportControlFramesOfNewest(64)  // 128 frames and a text against a burst of 100
            try flooder.sendFrame(opcode: 0x9, payload: Array("ping".utf8), final: true)
            #expect(try flooder.receiveCloseCode() == 1008)
            bystander.client.send("still here")
            #expect(try await bystander.waitTexts(1) == ["still here"])
        }

        @Test("every watched socket is forgotten with its own token, and sockets are watched before any read")
        func watchedSocketsAreForgotten() async throws {
            let handler = RecordingHandler()
            let watcher = ScriptedFrameWatcher()
            let server = try startServer(handler) { $0.frameStreamWatcher = watcher }
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
            try await waitUntil("four sockets forgotten") { watcher.state.withLock { $0.forgotten.count } == 4 }
            server.shutdown()
            let state = watcher.state.withLock { $0 }
            #expect(state.everWatched.count == 4)
            #expect(state.watched.isEmpty)
            #expect(state.forgotten.map(\.token).sorted() == state.everWatched.map(\.token).sorted())
            #expect(state.forgotten.map(\.descriptor).sorted() == state.everWatched.map(\.descriptor).sorted())
        }
    }
}
