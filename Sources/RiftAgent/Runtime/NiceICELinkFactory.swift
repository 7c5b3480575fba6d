import RiftNice
import Synchronization

/// The real `ICELinkFactory`: libnice sessions on one ICE thread for the whole agent.
final class NiceICELinkFactory: ICELinkFactory {
    private let loop = ICEEventLoop()

    func makeLink(_ configuration: ICESessionConfiguration,
                  deliver: @escaping @Sendable (ICEEvent) -> Void) throws(ICEError) -> any ICELink {
        let session = try ICESession(loop: loop, configuration: configuration)
        return NiceICELink(session: session, deliver: deliver)
    }

    func shutdown() { loop.shutdown() }
}

/// One libnice session and the task that passes its events on, in order (one task per session, not per event).
final class NiceICELink: ICELink {
    private let session: ICESession
    private let pump: Task<Void, Never>

    init(session: ICESession, deliver: @escaping @Sendable (ICEEvent) -> Void) {
        self.session = session
        pump = Task { for await event in session.events { deliver(event) } }
    }

    var localCredentials: (ufrag: String, pwd: String) { session.localCredentials }
    func startGathering() throws(ICEError) { try session.startGathering() }
    func setRemoteCredentials(ufrag: String, pwd: String) throws(ICEError) {
        try session.setRemoteCredentials(ufrag: ufrag, pwd: pwd)
    }
    func addRemoteCandidate(_ sdp: String) throws(ICEError) { try session.addRemoteCandidate(sdp) }
    func remoteGatheringDone() { session.remoteGatheringDone() }
    @discardableResult func send(_ bytes: UnsafeRawBufferPointer) -> Bool { session.send(bytes) }
    @discardableResult func send(batch datagrams: UnsafeBufferPointer<UnsafeRawBufferPointer>) -> Int {
        session.send(batch: datagrams)
    }
    func setReceiveHandler(_ handler: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        session.setReceiveHandler(handler)
    }
    func setReceiveHandler(_ handler: @escaping @Sendable (UnsafeRawBufferPointer) -> Void,
                           flush: @escaping @Sendable () -> Void) {
        session.setReceiveHandler(handler, flush: flush)
    }

    func close() {
        pump.cancel()
        session.close()
    }
}
