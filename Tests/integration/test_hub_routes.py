"""Subnet routes against the running hub (PROTOCOL.md §6.14): a v4 client advertises routes at hello, nothing reaches
the others until `riftgate-hub route approve` (run in another process) approves one; then the other v4 sessions get a
`peer_joined` with it, v3 sessions never see `routes`; overlapping approvals are refused, revoke withdraws, an invalid
advertisement is refused at hello.

The target is "within a second" (the hub polls the database once per one-second tick); the test asserts only a
generous bound so that a slow CI machine cannot fail it, and prints the measured delays.
"""
import time

from rgclient import Agent

# Generous: only a hub that never notices the change exceeds it.
PROPAGATION_BOUND = 5.0


def join(hub, token, name, version=4, routes=None, key=None):
    agent = Agent(hub, "home", token, name=name, key=key).connect()
    agent.read_challenge()
    agent.hello(version=version, routes=routes)
    return agent


def cli(hub, *args):
    """Runs `route ARGS`; returns (stdout, when the process exited)."""
    result = hub.cli("route", *args)
    return result.stdout, time.monotonic()


def test_routes_reach_v4_peers_only_once_approved(hub_factory):
    hub = hub_factory(start=False)
    _, token = hub.create_token("home", "t")
    hub.start()
    router = join(hub, token, "laptop-b", routes=["192.168.1.0/24", "fd00:1::/64"])
    assert "routes" not in router.expect("welcome")["self"], "nothing approved yet"
    other = join(hub, token, "laptop-a", routes=["192.168.0.0/16"])
    welcome = other.expect("welcome")
    assert all("routes" not in peer for peer in welcome["peers"]), welcome
    router.expect("peer_joined")
    old = join(hub, token, "old", version=3)
    old.expect("welcome")
    router.expect("peer_joined")
    other.expect("peer_joined")

    listed = hub.cli("route", "list", "home").stdout
    lines = [line for line in listed.splitlines() if router.public_key[:8] in line]
    assert len(lines) == 2 and all(line.rstrip().endswith("advertised") for line in lines), listed
    other.assert_silent(0.5)

    out, exited = cli(hub, "approve", "home", "laptop-b", "192.168.1.0/24")
    assert out.startswith("Approved 192.168.1.0/24 for peer"), out
    update = other.expect("peer_joined", timeout=PROPAGATION_BOUND)["peer"]
    delays = [time.monotonic() - exited]
    assert update["public_key"] == router.public_key and update["routes"] == ["192.168.1.0/24"], update
    old.assert_silent(1.5)  # a v3 session never hears of routes
    router.assert_silent(0.2)
    listed = hub.cli("route", "list", "home").stdout
    assert any("192.168.1.0/24" in line and line.rstrip().endswith("approved") for line in listed.splitlines()), listed

    # Overlapping another peer's approved route: refused, with the holder named; overlay prefix: refused.
    refused = hub.cli("route", "approve", "home", "laptop-a", "192.168.0.0/16", check=False)
    assert refused.returncode != 0 and "overlaps 192.168.1.0/24 approved for laptop-b" in refused.stderr, refused.stderr
    refused = hub.cli("route", "approve", "home", "laptop-b", "10.0.0.0/8", check=False)
    assert refused.returncode != 0 and "does not advertise" in refused.stderr, refused.stderr

    out, exited = cli(hub, "approve", "home", router.public_key[:10], "fd00:1::/64")
    update = other.expect("peer_joined", timeout=PROPAGATION_BOUND)["peer"]
    delays.append(time.monotonic() - exited)
    assert update["routes"] == ["192.168.1.0/24", "fd00:1::/64"], update

    # A newcomer's welcome lists the active routes; a v3 newcomer's does not.
    late = join(hub, token, "late")
    listed_peer = next(peer for peer in late.expect("welcome")["peers"] if peer["public_key"] == router.public_key)
    assert listed_peer["routes"] == ["192.168.1.0/24", "fd00:1::/64"]
    late_old = join(hub, token, "late-old", version=3)
    assert all("routes" not in peer for peer in late_old.expect("welcome")["peers"])
    for agent in (router, other, old, late, router, other, old):  # late, then late-old joined
        agent.expect("peer_joined", timeout=PROPAGATION_BOUND)

    out, exited = cli(hub, "revoke", "home", "laptop-b", "192.168.1.0/24")
    assert out.startswith("Revoked 192.168.1.0/24"), out
    update = other.expect("peer_joined", timeout=PROPAGATION_BOUND)["peer"]
    delays.append(time.monotonic() - exited)
    assert update["routes"] == ["fd00:1::/64"], update
    out, exited = cli(hub, "revoke", "home", "laptop-b", "fd00:1::/64")
    update = other.expect("peer_joined", timeout=PROPAGATION_BOUND)["peer"]
    delays.append(time.monotonic() - exited)
    assert "routes" not in update, update
    print(f"\nroute propagation over {len(delays)} changes: min {min(delays):.3f} s, max {max(delays):.3f} s after the CLI exited")
    for agent in (router, other, old, late, late_old):
        agent.close()


def test_invalid_advertisement_is_refused_at_hello(hub_factory):
    hub = hub_factory(start=False)
    _, token = hub.create_token("home", "t")
    hub.start()
    for routes, version in [(["0.0.0.0/0"], 4), (["192.168.1.1/24"], 4), ([f"10.{n}.0.0/16" for n in range(17)], 4),
                            (["10.0.0.0/8", "10.0.0.0/8"], 4), (["10.0.0.0/8"], 3)]:
        agent = join(hub, token, "bad", version=version, routes=routes)
        # A hello that does not decode is refused as every invalid hello is (not_authenticated naming the cause).
        refusal = agent.expect_error("not_authenticated")
        assert "invalid_value" in refusal["message"] and "advertise_routes" in refusal["message"], refusal
        agent.close()
    listed = hub.cli("route", "list", "home").stdout
    assert listed.startswith("No routes"), listed
