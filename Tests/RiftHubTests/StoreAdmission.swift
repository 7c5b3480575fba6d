import RiftCrypto
import RiftHub
import RiftProtocol

/// Admits `key` named `name` into `network` straight through the store, as the router would at a `hello`; the peer's
/// description, or nil when the store refused it. Shared by the store tests of names and renames.
func admit(_ database: HubDatabase, _ network: NetworkSettings, _ token: String, _ key: PublicKey, _ name: String,
           at time: Int64) throws -> PeerInfo? {
    guard case .admitted(let info) = try database.admitPeer(publicKey: key, name: name, network: network, tokenID: token, now: time)
    else { return nil }
    return info
}
