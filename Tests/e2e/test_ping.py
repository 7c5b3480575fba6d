"""`riftgate ping` and the compact `riftgate status` end to end: on a LAN the echo is answered over a direct host pair;
across two home (cone) NATs over a server-reflexive pair; between two symmetric NATs with TURN over a relay, and the
report says why (the candidates each side had, the direct checks that failed), as status --verbose and --json do;
between two symmetric NATs without TURN nothing connects, and status and ping say what is missing."""
import json
import time

import pytest

from coturn import turnserver_missing
from deployment import Deployment
from lab import wait_for
from riftgate_lab import binary
from topologies import hard_nats, home_nats, lan_topology


# The reasons an agent gives for a relayed path (RelayExplanation); between two symmetric NATs the first one is expected.
RELAY_WHYS = ("direct checks failed: ", "relay forced after ", "the peer asked for relay candidates only",
              "peer offered relay candidates only")


def riftgate_ping(agent, target: str, *extra: str):
    return agent.host.exec(binary("riftgate"), "ping", target, "--config", agent.config, *extra, check=False, timeout=30)


def connected_pair(lab, workdir, build, turn: bool) -> Deployment:
    deployment = Deployment(build(lab), workdir, turn=turn)
    deployment.start_hub()
    a, b = deployment.agent("a"), deployment.agent("b")
    a.start()
    b.start()
    deployment.wait_for_ping("a", "b", timeout=45)
    deployment.peer_view("a", "b")
    return deployment


def test_ping_reports_a_direct_path_on_a_lan(lab, workdir, timing):
    deployment = connected_pair(lab, workdir, lan_topology, turn=False)
    a, b = deployment.agents["a"], deployment.agents["b"]
    try:
        name_b, ip_b = b.status()["name"], deployment.overlay("b")[0]
        result = riftgate_ping(a, name_b, "--count", "2", "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        timing(f"riftgate ping on a LAN: {report['path_type']} rtt {[p['rtt_ms'] for p in report['probes']]} ms")
        assert report["peer"] == name_b and report["address"] == ip_b
        assert report["path_type"] == "host" and report["path_mode"] == "direct", report
        assert len(report["probes"]) == 2 and all(p["rtt_ms"] is not None for p in report["probes"]), report

        text = riftgate_ping(a, ip_b)
        assert text.returncode == 0, text.stderr
        assert text.stdout.startswith(f"pong from {name_b} ({ip_b}) via direct (local "), text.stdout
        assert "relayed because" not in text.stdout

        unknown = riftgate_ping(a, "no-such-peer")
        assert unknown.returncode != 0 and "unknown peer no-such-peer" in unknown.stderr, unknown

        # The compact status: one line per peer with its address, state and path; the long form behind --verbose.
        compact = a.status_text()
        line = next(line for line in compact.splitlines() if line.startswith(name_b + " "))
        assert ip_b in line and "connected" in line and "host/direct" in line, compact
        assert b.status()["public_key"] not in compact
        verbose = a.host.exec(binary("riftgate"), "status", "--verbose", "--config", a.config, timeout=15).stdout
        assert b.status()["public_key"] in verbose and "candidates local" in verbose, verbose

        # Names (version 3): every peer has a DNS name under the network's domain, and ping takes it.
        dns_b = b.status()["dns_name"]
        assert dns_b and dns_b.endswith(".rift"), b.status()
        seen = next(peer for peer in a.status()["peers"] if peer["public_key"] == b.status()["public_key"])
        assert seen["dns_name"] == dns_b, seen
        by_name = riftgate_ping(a, dns_b.split(".")[0], "--count", "1")
        assert by_name.returncode == 0 and f"pong from {name_b}" in by_name.stdout, by_name

        a.down()
        stopped = riftgate_ping(a, name_b)
        assert stopped.returncode != 0 and "riftgate is not running" in stopped.stderr, stopped
    except Exception:
        print(deployment.logs())
        raise


def test_ping_reports_a_server_reflexive_path_across_home_nats(lab, workdir, timing):
    deployment = connected_pair(lab, workdir, home_nats, turn=False)
    a, b = deployment.agents["a"], deployment.agents["b"]
    try:
        name_b = b.status()["name"]
        result = riftgate_ping(a, name_b)
        assert result.returncode == 0, result.stderr
        timing(f"riftgate ping across home NATs: {result.stdout.strip()}")
        assert f" via server-reflexive (local " in result.stdout, result.stdout
        assert "relayed because" not in result.stdout
    except Exception:
        print(deployment.logs())
        raise


def test_ping_reports_a_relayed_path_and_why(lab, workdir, timing):
    reason = turnserver_missing()
    if reason:
        pytest.skip(reason)
    deployment = connected_pair(lab, workdir, hard_nats, turn=True)
    a, b = deployment.agents["a"], deployment.agents["b"]
    try:
        name_b = b.status()["name"]
        deployment.peer_view("a", "b", condition=lambda entry: entry.get("path_type") == "relayed")
        result = riftgate_ping(a, name_b, "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        timing(f"riftgate ping between hard NATs: {report['path_type']} {report['local_candidate']} "
               f"-> {report['remote_candidate']} rtt {report['probes'][0]['rtt_ms']} ms; why {report.get('relay_explanation')}")
        assert report["path_type"] == "relayed", report
        assert report["local_candidate"] and report["remote_candidate"], report

        text = riftgate_ping(a, name_b)
        assert text.returncode == 0, text.stderr
        lines = text.stdout.splitlines()
        assert lines[0].startswith(f"pong from {name_b} (") and " via relayed (local " in lines[0], text.stdout
        assert lines[1].startswith("relayed because: ") and len(lines[1]) > len("relayed because: "), text.stdout
        # The reason says what the agent saw, not just the pair's kinds: the candidates each side had, and why no direct
        # pair won (both sides behind NATs that map per destination: the direct checks failed; or a forced relay).
        explanation = report["relay_explanation"]
        assert explanation and explanation in lines[1], (report, text.stdout)
        assert any(why in explanation for why in RELAY_WHYS), explanation
        assert "candidates local " in explanation and ", remote " in explanation, explanation
        assert "relay" in explanation.split("candidates local ")[1], explanation
        entry = a.peer(b.status()["public_key"])
        assert entry["relay_reason"] == explanation, entry
        verbose = a.host.exec(binary("riftgate"), "status", "--verbose", "--config", a.config, timeout=15).stdout
        assert f"relayed because: {explanation}" in verbose, verbose
    except Exception:
        print(deployment.logs())
        raise


# Two failed attempts in a row before the hint shows (PeerHint): libnice gives up a generation's checks after ~7.2 s.
HINT_BOUND = 45


def test_no_path_without_turn_says_what_is_missing(lab, workdir, timing):
    """Symmetric NATs on both sides and a hub without TURN: no pair can work. Both agents keep retrying, with backoff,
    and their status (compact, --verbose, --json) and `riftgate ping` say that the hub offers no relay."""
    deployment = Deployment(hard_nats(lab), workdir, turn=False)
    deployment.start_hub()
    a, b = deployment.agent("a"), deployment.agent("b")
    a.start()
    b.start()
    started = time.monotonic()
    key_a, key_b = a.public_key(), b.public_key()
    try:
        for agent, key in ((a, key_b), (b, key_a)):
            entry = wait_for(lambda: (p := agent.peer(key)) and p.get("hint") and p, timeout=HINT_BOUND, interval=1,
                             what=f"{agent.name}'s status to give a hint about its peer")
            timing(f"{agent.name}: hint {time.monotonic() - started:.1f} s after start, after "
                   f"{entry.get('ice_restarts')} ICE restarts: {entry['hint']}")
            assert entry["state"] != "connected" and "hub offers no TURN relay" in entry["hint"], entry
            assert entry["hint"].startswith("no path after "), entry
        compact = a.status_text()
        assert "\nlaptop-b: no path after " in compact, compact
        verbose = a.host.exec(binary("riftgate"), "status", "--verbose", "--config", a.config, check=False).stdout
        assert "    hint: no path after " in verbose, verbose
        result = riftgate_ping(a, "laptop-b", "--count", "1", "--timeout", "1")
        assert result.returncode != 0, result.stdout
        assert "no tunnel to laptop-b yet (state " in result.stderr, result.stderr
        assert "): no path after " in result.stderr and "riftgate netcheck" in result.stderr, result.stderr
        # The retries back off: by now (two failures plus the waits) far fewer than one per libnice failure would give.
        restarts = a.peer(key_b).get("ice_restarts", 0)
        timing(f"ICE restarts {time.monotonic() - started:.0f} s after start: {restarts}")
    except Exception:
        print(deployment.logs())
        raise
