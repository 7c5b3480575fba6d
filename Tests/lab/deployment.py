"""riftgate deployed on a lab topology: the hub (with coturn when the topology has a relay and `turn` is true) and one
agent per peer. With `turn=False` the hub gets no TURN settings at all, as in a deployment without coturn: the agents'
only server-reflexive candidates then come from the hub's own STUN server.

Tests and the demo use it the same way:

    deployment = Deployment(topology, workdir)
    deployment.start_hub()
    a, b = deployment.agent("a"), deployment.agent("b")
    a.start(); b.start()
    seconds = deployment.wait_for_ping("a", "b", timeout=30)
"""
from __future__ import annotations

import json
import os
import time

from coturn import Coturn
from lab import wait_for
from riftgate_lab import Agent, Hub
from topologies import Topology

MTU = 1380              # the agent's default interface MTU
FULL_SIZE_PING = MTU - 28  # ICMP payload that fills the MTU exactly (20 bytes IPv4 header + 8 bytes ICMP)
NETWORK = "lab"
# Second agent start to first ping, in seconds. Measured here: 0.3-1.2 s. Below WireGuard's 5 s handshake retry, so
# a lost or colliding first handshake (both sides initiating at once) fails a test instead of passing slowly.
CONNECT_BOUND = 4


def relayed_path_mode(entry: dict, other: dict) -> str:
    """The data path a relayed pair takes on one side, from both sides' status entries (`entry` this side's, `other`
    the peer's): forwarded by the side whose local candidate is its own TURN relay (TURN framing needs the agent);
    handed over by the other side, whose WireGuard sends raw UDP to the peer's relayed address (docs/architecture.md,
    "Port hand-over"). When the two ICE agents selected different pairs, the peer's datagrams reach this side's ICE
    agent and the hand-over falls back to forwarding for that generation (its reason says "bypassed")."""
    if (entry.get("local_candidate") or "").startswith("relay "):
        return "forwarded"
    if "bypassed" in (entry.get("path_reason") or ""):
        return "forwarded"
    return "hand-over"


class Deployment:
    """The hub, the relay and the agents of one topology."""

    def __init__(self, topology: Topology, workdir: str, turn: bool = True, coturn_socket_buffer: int = 0,
                 turn_over_tcp: bool = False, hub_options: tuple[str, ...] = ()):
        self.topology = topology
        self.workdir = workdir
        self.hub = Hub(topology.hub, workdir)
        self.coturn = (Coturn(topology.relay, workdir, socket_buffer=coturn_socket_buffer)
                       if turn and topology.relay is not None else None)
        self.agents: dict[str, Agent] = {}
        self.token = ""
        self.own_tokens: dict[str, tuple[str, str]] = {}  # role -> (token id, token) for agents not on `token`
        self.hub_arguments: tuple[str, ...] = ()
        self.turn_over_tcp = turn_over_tcp  # the hub also hands out coturn's TCP URL
        self.hub_options = hub_options  # more `riftgate-hub serve` options (every start)

    def start_hub(self) -> None:
        """Creates the network and a token, starts coturn (if any) and the hub with its TURN settings (if any)."""
        self.hub.create_network(NETWORK)
        self.token = self.hub.create_token(NETWORK, "lab")
        if self.coturn is not None:
            self.coturn.start()
            self.hub_arguments = self.coturn.hub_arguments()
            if self.turn_over_tcp:
                self.hub_arguments += ("--turn-url", self.coturn.tcp_url)
        self.hub_arguments += self.hub_options
        self.hub.start(*self.hub_arguments)

    def give_own_token(self, role: str) -> None:
        """Peer `role` joins with a token of its own (labelled with its role) instead of the shared one; call after
        `start_hub` and before the agent is created."""
        self.own_tokens[role] = self.hub.create_token_with_id(NETWORK, role)

    def start_pair(self) -> float:
        """Starts the hub and agents a, then b; returns when b started (monotonic), the start of a connect time."""
        self.start_hub()
        self.agent("a").start()
        started_b = time.monotonic()
        self.agent("b").start()
        return started_b

    def restart_hub(self) -> None:
        """Starts the hub again (same state directory and TURN settings) after `kill_hub`."""
        self.hub.start(*self.hub_arguments)

    def kill_hub(self) -> None:
        """SIGKILLs the hub: no goodbye to the agents, as in a crash or a power cut."""
        self.hub.kill()

    def agent(self, role: str) -> Agent:
        """Creates (once) and initialises the agent of peer `role`, with a machine-unique interface name."""
        if role not in self.agents:
            host = self.topology.peers[role]
            agent = Agent(host, self.workdir, interface=f"{host.lab.prefix}{role}")
            agent.init(self.hub.url, NETWORK, self.own_tokens[role][1] if role in self.own_tokens else self.token)
            self.agents[role] = agent
        return self.agents[role]

    def overlay(self, role: str) -> tuple[str, str]:
        """Peer `role`'s overlay IPv4 and IPv6 addresses (waits until it has them)."""
        agent = self.agents[role]
        ipv4 = agent.overlay_ipv4()
        return ipv4, agent.status()["ipv6"]

    def ping(self, source: str, target: str, ipv6: bool = False, full_size: bool = False, count: int = 1) -> bool:
        """One ping (or `count`) from peer `source` to peer `target` through the tunnel, waiting a second for each
        answer, more on a path its routers slow down."""
        ipv4, ipv6_address = self.overlay(target)
        size = (FULL_SIZE_PING - 20 if ipv6 else FULL_SIZE_PING) if full_size else None
        return self.topology.peers[source].ping(ipv6_address if ipv6 else ipv4, count=count, size=size,
                                                dont_fragment=full_size,
                                                wait=1 + self.topology.added_round_trip(source, target))

    def wait_for_ping(self, source: str, target: str, timeout: float) -> float:
        """Pings (a stream, `Host.wait_for_answer`) until one answer comes back; returns the seconds it took, or raises
        after `timeout`."""
        elapsed = self.topology.peers[source].wait_for_answer(self.overlay(target)[0], timeout=timeout,
                                                              what=f"{source} to ping {target} through the tunnel")
        expected = os.environ.get("RIFTGATE_EXPECT_WIREGUARD_BACKEND")
        if expected:  # set by Tests/e2e/test_kernel_wireguard.py inside its VM
            for role in (source, target):
                backend = self.agents[role].status()["backend"]
                assert backend == expected, f"agent {role} runs WireGuard on {backend}, not {expected}"
        return elapsed

    def path_type(self, viewer: str, peer: str) -> str | None:
        """The path type `viewer`'s status shows for `peer` while connected (e.g. "relayed"), else None."""
        entry = self.agents[viewer].peer(self.agents[peer].public_key())
        return entry.get("path_type") if entry and entry["state"] == "connected" else None

    def peer_view(self, viewer: str, peer: str, timeout: float = 20, condition=None) -> dict:
        """`viewer`'s status entry for `peer`, once it is connected (and `condition(entry)` holds, if given)."""
        key = self.agents[peer].public_key()

        def ready():
            entry = self.agents[viewer].peer(key)
            if entry and entry["state"] == "connected" and (condition is None or condition(entry)):
                return entry
            return None
        return wait_for(ready, timeout=timeout, what=f"{viewer}'s status to show {peer} connected")

    def logs(self, tail: int = 4000) -> str:
        """The end of every agent's log, the hub's and coturn's, for a failure message."""
        parts = [f"--- agent {role} ---\n{agent.log()[-tail:]}\n--- agent {role} status ---\n{_peer_states(agent)}"
                 for role, agent in self.agents.items()]
        parts.append(f"--- hub ---\n{self.hub.log()[-tail:]}")
        if self.coturn is not None:
            parts.append(f"--- coturn ---\n{self.coturn.log()[-tail // 2:]}")
        return "\n".join(parts)


def _peer_states(agent) -> str:
    """An agent's status entries for its peers (state, path, ICE state, last recovery), for a failure message."""
    try:
        peers = agent.status().get("peers", [])
    except Exception as error:  # noqa: BLE001 - the agent may be gone; say so instead of hiding the logs
        return f"(status unavailable: {error})"
    return "\n".join(json.dumps(peer, sort_keys=True) for peer in peers)
