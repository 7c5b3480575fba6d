@testable import RiftNice
import Testing

@Suite("Pure logic: candidate hold, candidate lines, credentials, configuration")
struct LogicTests {
    @Test("candidates before the credentials are held in order, then released with the end-of-candidates")
    func holdUntilCredentials() {
        var queue = RemoteCandidateQueue()
        #expect(queue.candidateArrived("candidate:1") == .buffered)
        #expect(queue.peerGatheringDoneArrived() == false)
        #expect(queue.candidateArrived("candidate:2") == .buffered)
        let released = queue.credentialsArrived()
        #expect(released.candidates == ["candidate:1", "candidate:2"])
        #expect(released.gatheringDone)
        #expect(queue.candidateArrived("candidate:3") == .apply)
        let doneNow = queue.peerGatheringDoneArrived()
        #expect(doneNow)
        #expect(queue.credentialsArrived().candidates.isEmpty, "nothing is released twice")
        queue.reset()
        #expect(queue.candidateArrived("candidate:4") == .buffered, "a restart holds candidates again")
    }

    @Test("the hold is bounded")
    func holdIsBounded() {
        var queue = RemoteCandidateQueue()
        for index in 0..<RemoteCandidateQueue.capacity { #expect(queue.candidateArrived("candidate:\(index)") == .buffered) }
        #expect(queue.candidateArrived("candidate:overflow") == .refused)
        #expect(queue.credentialsArrived().candidates.count == RemoteCandidateQueue.capacity)
    }

    @Test("candidate lines are normalized to the exchanged form and junk is refused")
    func candidateLines() {
        let line = "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host"
        #expect(CandidateAttribute.normalized(line) == line)
        #expect(CandidateAttribute.normalized("a=" + line + "\r\n") == line)
        #expect(CandidateAttribute.normalized("  " + line) == line)
        #expect(CandidateAttribute.libniceForm(line) == "a=" + line)
        for bad in ["", "a=ice-ufrag:abcd", "candidate:1\ncandidate:2", "candidate:" + String(repeating: "x", count: 600)] {
            #expect(CandidateAttribute.normalized(bad) == nil, "\(bad.prefix(30))")
        }
    }

    @Test("remote credentials follow RFC 8445 lengths and characters")
    func credentials() {
        let pwd = "abcdefghijklmnopqrstuv"  // 22
        #expect(throws: Never.self) { try ICECredentials.validate(ufrag: "ab+/", pwd: pwd) }
        for (ufrag, password) in [("abc", pwd), ("ab d", pwd), ("abcd", "short"), ("abcd", pwd + "!"),
                                  (String(repeating: "a", count: 257), pwd)] {
            #expect(throws: ICEError.self) { try ICECredentials.validate(ufrag: ufrag, pwd: password) }
        }
    }

    @Test("configuration is checked and never prints TURN passwords")
    func configuration() throws {
        let servers = ICEServerConfiguration(
            stun: ("stun.example", 3478), turn: [("turn.example", 3478, "alice", "hunter2-secret", .udp)], forceRelay: true)
        let configuration = ICESessionConfiguration(controlling: true, servers: servers, portRange: 40000...40100)
        #expect(throws: Never.self) { try configuration.validate() }
        #expect(!configuration.description.contains("hunter2"))
        #expect(configuration.description.contains("alice@turn.example:3478"))

        let noRelay = ICESessionConfiguration(controlling: false, servers: ICEServerConfiguration(forceRelay: true))
        #expect(throws: ICEError(.invalidConfiguration, "forceRelay needs at least one TURN server")) { try noRelay.validate() }
        let zeroPort = ICESessionConfiguration(controlling: false, portRange: 0...10)
        #expect(throws: ICEError.self) { try zeroPort.validate() }
    }

    @Test("numeric server addresses pass through; names resolve; bad names fail with the resolver's error")
    func resolution() throws {
        #expect(try ServerAddressResolver.numericAddress(of: "192.0.2.7") == "192.0.2.7")
        #expect(try ServerAddressResolver.numericAddress(of: "::1") == "::1")
        #expect(try ServerAddressResolver.numericAddress(of: "localhost") == "127.0.0.1")
        let error = #expect(throws: ICEError.self) { try ServerAddressResolver.numericAddress(of: "no-such-host.invalid") }
        #expect(error?.code == .serverResolutionFailed)
        #expect(error?.description.contains("no-such-host.invalid") == true)
    }
}
