"""`riftgate netcheck` in the NAT lab: a real hub answering STUN on two ports, and the check run from a peer's host
behind each kind of router, without joining anything. Cone and symmetric NATs are told apart, a public host is seen
as not translated, and a LAN that lets no UDP reach the hub gets "expect relay". With a running agent, netcheck also
allocates on the network's TURN server with the agent's credentials: reachable, refused (the hub's secret differs from
coturn's) and blocked (a firewall drops UDP to it) are told apart, and the verdict says whether the relay is there."""
import json
import time

import pytest
from coturn import turnserver_missing
from deployment import NETWORK, Deployment
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


# TURN with the network's credentials: netcheck reads them from the running agent of its configuration (the hub hands
# TURN credentials only to a joined peer, and a second session with the agent's key would replace the running one).
TURN_CASES = {
    # name: (what to do before the hub starts / after the agent joined, expected `turn`, expected verdict ending)
    "reachable": ("reachable", "; relay available: TURN allocation succeeded"),
    "wrong-secret": ("auth failed", "; relay unavailable (TURN auth failed): connections through hard NATs will fail"),
    "blocked": ("unreachable", "; relay unavailable (TURN unreachable): connections through hard NATs will fail"),
}


def netcheck_with_agent(agent, *extra: str):
    return agent.host.exec(binary("riftgate"), "netcheck", "--config", agent.config, "--stun-alt-port", str(ALT_PORT),
                           *extra, check=False, timeout=60)


@pytest.mark.parametrize("case", list(TURN_CASES))
def test_netcheck_checks_turn_with_the_networks_credentials(lab, workdir, timing, case):
    reason = turnserver_missing()
    if reason:
        pytest.skip(reason)
    turn, verdict_end = TURN_CASES[case]
    deployment = Deployment(hard_nats(lab), workdir, turn=True)
    deployment.hub.create_network(NETWORK)
    deployment.token = deployment.hub.create_token(NETWORK, "lab")
    coturn = deployment.coturn
    coturn.start()
    if case == "wrong-secret":
        # The hub's secret differs from coturn's: the credentials it hands out are refused.
        with open(coturn.secret_file, "w") as handle:
            handle.write("not-the-secret-coturn-has\n")
    deployment.hub_arguments = (*coturn.hub_arguments(), "--stun-alt-port", str(ALT_PORT))
    deployment.hub.start(*deployment.hub_arguments)
    agent = deployment.agent("a")
    try:
        # Without a running agent there are no credentials: TURN is not checked, and the report says why.
        idle = netcheck_with_agent(agent, "--json")
        assert idle.returncode == 0, idle.stderr
        report = json.loads(idle.stdout)
        assert report["turn"].startswith("not checked (riftgate is not running"), report
        assert "turn_servers" not in report and report["verdict"].startswith("expect relay"), report

        agent.start()
        agent.overlay_ipv4()
        if case == "blocked":
            # A firewall on the machine drops UDP to the TURN server.
            agent.host.nft(f"table inet blockturn {{\n  chain out {{\n    type filter hook output priority 0;\n"
                           f"    ip daddr {coturn.host.address} udp dport {coturn.port} drop\n  }}\n}}\n")
        started = time.monotonic()
        result = netcheck_with_agent(agent, "--json")
        elapsed = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        servers = report["turn_servers"]
        timing(f"netcheck TURN {case}: {elapsed:.2f} s, {servers}, verdict: {report['verdict']}")
        assert report["turn"] == turn, report
        assert [server["url"] for server in servers] == [coturn.url], report
        assert servers[0]["result"] == turn and servers[0]["transport"] == "udp", report
        assert (servers[0].get("latency_ms") is None) == (case == "blocked"), report
        assert report["verdict"].startswith("expect relay (") and report["verdict"].endswith(verdict_end), report

        text = netcheck_with_agent(agent).stdout
        assert f"TURN: {turn}\n  {coturn.url}: {turn}" in text, text
        assert coturn.secret not in text and "credential" not in text, "no secret in the report"

        skipped = json.loads(netcheck_with_agent(agent, "--json", "--no-turn").stdout)
        assert skipped["turn"] == "not checked (--no-turn)", skipped
    except Exception:
        print(deployment.logs())
        raise
