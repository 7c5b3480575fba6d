import RiftWebSocket
import Testing

extension LoopbackTests {
    @Suite("fair share of writes on a real server")
    struct FairWriteTests {
        @Test("with a share of one write and one event per pass, broadcasts and echoes in two groups arrive complete and in order")
        func broadcastsArriveUnderTheSmallestShare() async throws {
            let handler = RecordingHandler(echoes: false)
            let server = try startServer(handler) {
                $0.writesPerGroupPerPass = 1
                $0.eventsPerGroupPerPass = 1
            }
            defer { server.shutdown() }
            var probes: [ClientProbe] = []
            for index in 0..<10 {
                let probe = try ClientProbe(port: server.boundPort, path: index < 7 ? "/v1/networks/big" : "/v1/networks/small")
                try await probe.waitConnected(timeout: .seconds(30))
                probes.append(probe)
            }
            try await waitUntil("the server to register every connection") { handler.openedIDs.count == probes.count }
            let messages = (0..<30).map { "broadcast \($0)" }
            for text in messages {
                for id in handler.openedIDs { server.send(text, to: id) }
            }
            for probe in probes {
                #expect(try await probe.waitTexts(messages.count, timeout: .seconds(30)) == messages)
            }
            // Messages from the clients reach the handler in order, per connection, although each group hands over one
            // event per pass.
            let sent = (0..<40).map { "up \($0)" }
            for probe in probes { for text in sent { probe.client.send(text) } }
            try await waitUntil("every message to reach the handler", timeout: .seconds(30)) {
                handler.openedIDs.allSatisfy { handler.received(on: $0).count == sent.count }
            }
            for id in handler.openedIDs { #expect(handler.received(on: id) == sent) }
            for probe in probes { probe.client.close() }
            try await waitUntil("the handler to hear of every close", timeout: .seconds(30)) {
                Set(handler.closedIDs) == Set(handler.openedIDs)
            }
        }
    }
}
