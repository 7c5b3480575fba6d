import RiftNice

// The mesh logic has its own copies of libnice's state and candidate types so that it depends on no C library. Each
// copy is mapped by an exhaustive `switch`: a case added on either side is a compile error here, never a silent
// default.

extension ICEConnectivity {
    /// The mesh's view of an ICE session's state.
    init(_ state: ICEState) {
        switch state {
        case .disconnected: self = .disconnected
        case .gathering: self = .gathering
        case .connecting: self = .connecting
        case .connected: self = .connected
        case .ready: self = .ready
        case .failed: self = .failed
        }
    }
}

extension CandidateKind {
    /// The mesh's view of an ICE candidate's type.
    init(_ type: ICECandidateType) {
        switch type {
        case .host: self = .host
        case .serverReflexive: self = .serverReflexive
        case .peerReflexive: self = .peerReflexive
        case .relayed: self = .relayed
        }
    }
}

extension CandidateEndpoint {
    /// The mesh's view of one end of a selected pair.
    init(_ info: ICECandidateInfo) {
        let base = info.baseAddress.flatMap { address in info.basePort.map { TransportAddress(address: address, port: $0) } }
        self.init(kind: CandidateKind(info.type), address: info.address, port: info.port, base: base)
    }
}
