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
        assert report["turn"] == turn and report["turn_credentials_from"] == "agent", report
        assert [server["url"] for server in servers] == [coturn.url], report
        assert servers[0]["result"] == turn and servers[0]["transport"] == "udp", report
        assert (servers[0].get("latency_ms") is None) == (case == "blocked"), report
        assert report["verdict"].startswith("expect relay (") and report["verdict"].endswith(verdict_end), report

        text = netcheck_with_agent(agent).stdout
        assert f"TURN: {turn}\n  {coturn.url}: {turn}" in text, text
        assert coturn.secret not in text and "credential" not in text, "no secret in the report"

        skipped = json.loads(netcheck_with_agent(agent, "--json", "--no-turn").stdout)
        assert skipped["turn"] == "not checked (--no-turn)", skipped

        if case == "reachable":
            # A token given explicitly wins over the running agent; hub URL and network come from the agent's
            # configuration; and asking with the token leaves the agent's session alone (nothing joins, nothing replaced).
            token_file = f"{workdir}/netcheck-token"
            with open(token_file, "w") as handle:
                handle.write(deployment.token + "\n")
            by_token = json.loads(netcheck_with_agent(agent, "--json", "--token-file", token_file).stdout)
            assert by_token["turn"] == "reachable" and by_token["turn_credentials_from"] == "hub", by_token
            assert agent.status()["hub"]["state"] == "connected"
            with open(f"{workdir}/hub.log") as log:
                hub_log = log.read()
            assert "ice servers handed to a token holder" in hub_log and "peer connection replaced" not in hub_log
            assert deployment.token not in hub_log, "the hub never logs the token"
    except Exception:
        print(deployment.logs())
        raise


# TURN from a token alone (PROTOCOL.md §6.12): no agent runs and none is configured; netcheck asks the hub for the
# network's ICE servers with the token (`ice_servers`), joining nothing, then allocates with those credentials.
def netcheck_with_token(host, hub_url: str, token_file: str, *extra: str):
    return host.exec(binary("riftgate"), "netcheck", "--config", "/nonexistent/riftgate.toml", "--hub", hub_url,
                     "--network", NETWORK, "--token-file", token_file, "--stun-alt-port", str(ALT_PORT), *extra,
                     check=False, timeout=60)


@pytest.mark.parametrize("case", ["reachable", "wrong-token", "no-turn"])
def test_netcheck_checks_turn_from_a_token_alone(lab, workdir, timing, case):
    reason = turnserver_missing()
    if reason and case != "no-turn":
        pytest.skip(reason)
    deployment = Deployment(hard_nats(lab), workdir, turn=case != "no-turn")
    hub = deployment.hub
    hub.create_network(NETWORK)
    deployment.token = hub.create_token(NETWORK, "lab")
    if deployment.coturn is not None:
        deployment.coturn.start()
        deployment.hub_arguments = deployment.coturn.hub_arguments()
    hub.start(*deployment.hub_arguments, "--stun-alt-port", str(ALT_PORT))
    peers_before = hub.admin("peer", "list", NETWORK)
    host = deployment.topology.peers["a"]
    token_file = f"{workdir}/netcheck-token"
    with open(token_file, "w") as handle:
        handle.write(("rgt_" + "A" * 43 if case == "wrong-token" else deployment.token) + "\n")
    try:
        started = time.monotonic()
        result = netcheck_with_token(host, hub.url, token_file, "--json")
        elapsed = time.monotonic() - started
        report = json.loads(result.stdout)
        timing(f"netcheck with a token, {case}: {elapsed:.2f} s, turn: {report['turn']}, verdict: {report['verdict']}")
        assert deployment.token not in result.stdout + result.stderr, "the token is never printed"
        if case == "reachable":
            assert result.returncode == 0, result.stderr
            coturn = deployment.coturn
            assert report["turn"] == "reachable" and report["turn_credentials_from"] == "hub", report
            assert [server["url"] for server in report["turn_servers"]] == [coturn.url], report
            assert report["verdict"].endswith("; relay available: TURN allocation succeeded"), report
            text = netcheck_with_token(host, hub.url, token_file).stdout
            assert f"TURN: reachable\n  {coturn.url}: reachable" in text and "TURN login from the hub" in text, text
            assert coturn.secret not in text and "credential" not in text
        elif case == "wrong-token":
            assert result.returncode == 77, (result.returncode, result.stderr)
            assert report["turn"] == "not checked (the hub refused the token (unauthorized))", report
            assert "the hub refused" in result.stderr and f"network {NETWORK}" in result.stderr, result.stderr
        else:
            assert result.returncode == 0, result.stderr
            assert report["turn"] == "none offered" and report["turn_servers"] == [], report
            assert report["verdict"].endswith("(the hub offers no TURN server): connections through hard NATs will fail"), report
            text = netcheck_with_token(host, hub.url, token_file).stdout
            assert "TURN: none offered (no TURN servers on this network)" in text, text
        assert hub.admin("peer", "list", NETWORK) == peers_before, "nothing joined"
    except Exception:
        print(deployment.logs())
        raise
