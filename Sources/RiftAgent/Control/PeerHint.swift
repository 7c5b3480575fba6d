/// What to tell a person about a peer that stays out of `connected` although both machines reach the hub: the
/// attempts keep failing because no pair works between the two networks, and whether a TURN relay was there to try.
/// Shown in `riftgate status` (all forms) and `riftgate ping` once `minimumFailedAttempts` attempts in a row failed.
enum PeerHint {
    /// Failed attempts in a row before the hint shows: the first failure is often a passing one (a path that died
    /// and came back, a peer that restarted), two take about 15-20 s with libnice's check timeouts.
    static let minimumFailedAttempts = 2

    /// The hint, or nil when there is nothing to say: fewer attempts failed in a row (the count starts again once a
    /// path carries a fresh handshake), or the hub is not connected (then signals cannot pass, and the hub line says
    /// why). A peer whose path just died still shows `connected` until its last handshake is three minutes old; the
    /// hint does not wait for that.
    static func text(failedAttempts: Int, hubConnected: Bool, relayOffered: Bool) -> String? {
        guard hubConnected, failedAttempts >= minimumFailedAttempts else { return nil }
        let tried = "no path after \(failedAttempts) attempts in a row"
        let guide = "see docs/troubleshooting.md, \"Symmetric NAT and TURN\""
        if relayOffered {
            return "\(tried), not even through the TURN relay: check the relay from both machines with `riftgate netcheck` "
                + "(coturn reachable, over TCP too if a network lets out no UDP; its secret the hub's; the relay ports "
                + "open); \(guide)"
        }
        return "\(tried), and the hub offers no TURN relay: a symmetric or carrier-grade NAT, or a firewall dropping "
            + "UDP, on either side needs one (`riftgate netcheck` on both machines tells which); \(guide)"
    }
}
