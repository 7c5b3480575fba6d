"""`riftgate netcheck` in the NAT lab: a real hub answering STUN on two ports, and the check run from a peer's host
behind each kind of router, without joining anything. Cone and symmetric NATs are told apart, a public host is seen
as not translated, and a LAN that lets no UDP reach the hub gets "expect relay"."""
import json
import time

import pytest
from riftgate_lab import Hub, binary
from topologies import hard_nats, home_nats, mixed, turn_only

ALT_PORT = 3479

# name: (topology, host to run on, expected mapping, expected verdict prefix, UDP answered)
CASES = {
    "cone": (home_nats, "a", "endpoint-independent", "direct connections likely", True),
    "symmetric": (hard_nats, "a", "endpoint-dependent", "expect relay", True),
    "public": (mixed, "a", "none", "direct connections likely", True),
    "udp-blocked": (turn_only, "a", "unknown", "expect relay", False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_netcheck_tells_nat_kinds_apart(lab, workdir, timing, case):
    build, role, mapping, verdict, udp = CASES[case]
    topology = build(lab)
    hub = Hub(topology.hub, workdir)
    hub.start("--stun-alt-port", str(ALT_PORT))
    started = time.monotonic()
    result = topology.peers[role].exec(binary("riftgate"), "netcheck", "--hub", hub.url, "--stun-alt-port", str(ALT_PORT),
                                       "--json", check=False, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    timing(f"netcheck {case}: {elapsed:.2f} s, verdict: {report['verdict']}")
    assert report["udp"] is udp, report
    assert report["mapping"] == mapping, report
    assert report["verdict"].startswith(verdict), report
    if udp:
        ipv4 = report["ipv4"]
        assert ipv4["reachable"] and ipv4["latency_ms"] is not None
        assert ipv4["translated"] is (case != "public"), ipv4
        assert ipv4["mapped"].startswith("203.0.113."), ipv4
    text = topology.peers[role].exec(binary("riftgate"), "netcheck", "--hub", hub.url, "--stun-alt-port", str(ALT_PORT),
                                     check=False, timeout=60).stdout
    assert f"verdict: {verdict}" in text and f"NAT mapping: {mapping}" in text, text
