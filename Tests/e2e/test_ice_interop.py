"""Interoperability with another ICE library: a riftgate agent (libnice) and a peer written from Protocol/PROTOCOL.md
with aioice (ice_interop_peer.py: its own hub client, sealing, ICE and path choice, and an unmodified wireguard-go
configured with `wg`) connect through a real hub and ping each other through WireGuard.

Both ICE roles (§8: the smaller key controls; aioice nominates regularly, libnice aggressively), on one LAN (host ↔
host: direct on both sides), behind two endpoint-independent NATs without TURN (a server-reflexive pair: riftgate
hands the path over to WireGuard, the aioice peer forwards WireGuard's datagrams on its ICE component, §9.3), and
behind two symmetric NATs where only the hub's coturn connects (aioice's TURN client with the hub's credentials).
"""
import base64
import json
import os
import sys
import time

import nacl.public
import pytest
from coturn import turnserver_missing
from deployment import CONNECT_BOUND, NETWORK, Deployment
from lab import wait_for
from topologies import hard_nats, home_nats, lan_topology

HERE = os.path.dirname(os.path.abspath(__file__))

# topology name: (builder, TURN, riftgate's path type and mode for the aioice peer (mode None: either), the aioice
# peer's own path)
TOPOLOGIES = {
    "lan": (lan_topology, False, ("host", "direct"), "direct"),
    "home-nats-no-turn": (home_nats, False, ("server-reflexive", "hand-over"), "forwarded"),
    # Symmetric NATs: only coturn connects. Whichever side's relay the pair uses, riftgate forwards (its own relay)
    # or hands over (the peer's), and the aioice peer forwards through aioice's TURN client or to riftgate's relay.
    "hard-nats": (hard_nats, True, ("relayed", None), "forwarded"),
}


@pytest.fixture(autouse=True)
def aioice_available():
    try:
        import aioice  # noqa: F401
    except ImportError:
        pytest.skip("aioice is not installed (deploy/install-deps.sh installs Tests/requirements.txt)")


def peer_key(riftgate_key: str, controlling: bool) -> nacl.public.PrivateKey:
    """A key for the aioice peer on the wanted side of riftgate's key (§8: the smaller one is controlling)."""
    other = base64.b64decode(riftgate_key)
    assert len(other) == 32, f"not a public key: {riftgate_key!r}"
    for _ in range(1000):  # each try is a coin toss
        key = nacl.public.PrivateKey.generate()
        if (bytes(key.public_key) < other) == controlling:
            return key
    raise AssertionError(f"no key on the {'smaller' if controlling else 'larger'} side of {riftgate_key}")


def write_secret(path: str, text: str) -> str:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text + "\n")
    return path


@pytest.mark.parametrize("controls", ["aioice", "riftgate"])
@pytest.mark.parametrize("name", list(TOPOLOGIES))
def test_riftgate_and_an_aioice_peer_connect(lab, workdir, timing, name, controls):
    build, turn, (path_type, path_mode), peer_path = TOPOLOGIES[name]
    if turn and turnserver_missing():
        pytest.skip(turnserver_missing())
    deployment = Deployment(build(lab), workdir, turn=turn)
    deployment.start_hub()
    agent = deployment.agent("a")
    agent.start()
    agent.overlay_ipv4()  # joined: its status now shows its key
    riftgate_key = agent.status()["public_key"]
    key = peer_key(riftgate_key, controlling=controls == "aioice")
    host_b = deployment.topology.peers["b"]
    status_file = os.path.join(workdir, "aioice-peer-status.json")
    log_file = os.path.join(workdir, "aioice-peer.log")
    started = time.monotonic()
    host_b.spawn(sys.executable, os.path.join(HERE, "ice_interop_peer.py"), "--hub", deployment.hub.url,
                 "--network", NETWORK,
                 "--token-file", write_secret(os.path.join(workdir, "peer.token"),
                                              deployment.hub.create_token(NETWORK, "aioice")),
                 "--key-file", write_secret(os.path.join(workdir, "peer.key"), base64.b64encode(bytes(key)).decode()),
                 "--interface", f"{lab.prefix}b", "--status-file", status_file, log=log_file)
    peer_public = base64.b64encode(bytes(key.public_key)).decode()

    def peer_status() -> dict:
        try:
            with open(status_file) as handle:
                return json.load(handle)
        except (FileNotFoundError, ValueError):
            return {}

    try:
        peer_ipv4 = wait_for(lambda: peer_status().get("self", {}).get("ipv4"), timeout=20,
                             what="the aioice peer to join the hub")
        riftgate_ipv4 = agent.overlay_ipv4()
        wait_for(lambda: deployment.topology.peers["a"].ping(peer_ipv4), timeout=CONNECT_BOUND + 10, interval=0.1,
                 what="riftgate to ping the aioice peer through WireGuard")
        connect = time.monotonic() - started
        assert host_b.ping(riftgate_ipv4), "the aioice peer pings riftgate back"
        entry = wait_for(lambda: (p := agent.peer(peer_public)) and p.get("state") == "connected" and p,
                         timeout=10, what="riftgate to call the aioice peer connected")
        own = peer_status()[riftgate_key]
        timing(f"{controls} controls: connect {connect:.2f} s; riftgate {entry.get('path_type')}/"
               f"{entry.get('path_mode')} {entry.get('local_candidate')} -> {entry.get('remote_candidate')}; "
               f"aioice {own['path']} {own['local']} -> {own['remote']}")
        assert entry.get("path_type") == path_type and path_mode in (None, entry.get("path_mode")), entry
        assert own["path"] == peer_path and own["controlling"] == (controls == "aioice"), own
        # The tunnel keeps working past a few of aioice's consent checks and riftgate's keepalive reads.
        time.sleep(6)
        assert deployment.topology.peers["a"].ping(peer_ipv4, count=3) and host_b.ping(riftgate_ipv4)
        assert agent.peer(peer_public).get("state") == "connected"
    except Exception:
        print(deployment.logs())
        print("--- aioice peer ---\n" + (open(log_file, errors="replace").read()[-6000:] if os.path.exists(log_file) else ""))
        raise
