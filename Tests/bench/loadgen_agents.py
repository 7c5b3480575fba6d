"""The load generator's agents: N authenticated connections to the hub, across many networks.

Each `SimulatedAgent` has its own X25519 key and proves possession of it exactly as PROTOCOL.md §5 says (PyNaCl's
crypto_box). `AgentFleet` joins them, tracks what each one knows about its network (welcome + peer_joined -
peer_left) to tell when a join storm has converged, and hands every relayed signal to a callback without parsing
its JSON (the relay measurement only needs the nonce).
"""
from __future__ import annotations

import asyncio
import json
import time

import nacl.public

import loadgen_storm
import riftproto
from wsclient import WebSocketConnection


class SimulatedAgent:
    """One agent: its key, its network's token, its connection and what it has learned."""
    __slots__ = ("index", "key", "public_key", "network", "token", "box", "connection", "phase", "known", "expected",
                 "converged", "joined", "started", "welcomed_at", "error")

    def __init__(self, index: int, network: str, token: str, expected: int):
        self.index, self.network, self.token, self.expected = index, network, token, expected
        self.key = nacl.public.PrivateKey.generate()
        self.public_key = riftproto.b64(bytes(self.key.public_key))
        self.box = None  # crypto_box with the hub's key, computed before the storm
        self.connection: WebSocketConnection | None = None
        self.phase = "new"  # new -> challenge -> hello -> member (or failed)
        self.known: set[str] = set()
        self.converged = False
        self.joined: asyncio.Future | None = None
        self.started = self.welcomed_at = 0.0
        self.error = None


class AgentFleet:
    """Joins agents to the hub at `host:port` and follows their protocol state.

    `on_signal(kind, payload, received_ns)` is called for every relayed signal, `on_error(code)` for every error frame
    after the welcome. `port_of(agent)`, when given, names the hub port each agent joins (a hub cluster on one host);
    otherwise every agent joins `port`. With `tls` (an `ssl.SSLContext`) every connection is `wss://`, the hub's
    certificate checked for `host`. `storm_client` "epoll" runs the join storm on plain sockets (`loadgen_storm.py`,
    `ws://` only), "asyncio" on asyncio's transports; `relay_client` "epoll" keeps the epoll storm's sockets there
    (`storm_engine`) instead of handing them to asyncio.
    """

    def __init__(self, host: str, port: int, on_signal, on_error, port_of=None, tls=None):
        self.host, self.port, self.tls = host, port, tls
        self.port_of = port_of or (lambda agent: port)
        self.on_signal, self.on_error = on_signal, on_error
        self.agents: list[SimulatedAgent] = []
        self.hub_key: bytes | None = None
        self.converged_count = 0
        self.all_converged: asyncio.Future | None = None
        self.peer_left = 0
        self.storm_client = "asyncio"
        self.relay_client = "asyncio"  # "epoll": the storm keeps its sockets for loadgen_relay_epoll.EpollRelay
        self.storm_engine = None  # the kept loadgen_storm.EpollStorm

    def populate(self, tokens: list[dict], count: int, network_size: int) -> None:
        """`count` agents, `network_size` per network, using one token per network."""
        needed = (count + network_size - 1) // network_size
        if needed > len(tokens):
            raise SystemExit(f"need {needed} networks of {network_size} for {count} agents, have {len(tokens)}")
        for index in range(count):
            network = tokens[index // network_size]
            members = min(network_size, count - (index // network_size) * network_size)
            self.agents.append(SimulatedAgent(index, network["network"], network["token"], members - 1))

    def request(self, network: str, token: str, port: int | None = None) -> bytes:
        return riftproto.upgrade_request(self.host, port or self.port, riftproto.network_path(network), {
            **riftproto.bearer(token), "Sec-WebSocket-Protocol": riftproto.SUBPROTOCOL})

    def tls_arguments(self) -> dict:
        """`loop.create_connection`'s TLS arguments: none for `ws://`."""
        return {"ssl": self.tls, "server_hostname": self.host} if self.tls else {}

    async def fetch_hub_key(self) -> None:
        """One connection that only reads the challenge, so every agent's crypto_box key is computed before the storm."""
        loop = asyncio.get_running_loop()
        got: asyncio.Future = loop.create_future()
        first = self.agents[0]

        def on_message(connection, payload):
            if not got.done():
                got.set_result(json.loads(payload))

        _, connection = await loop.create_connection(
            lambda: WebSocketConnection(self.request(first.network, first.token), on_message), self.host, self.port,
            **self.tls_arguments())
        challenge = await asyncio.wait_for(got, 10)
        connection.close()
        self.hub_key, _ = riftproto.challenge_keys(challenge)
        hub_public = nacl.public.PublicKey(self.hub_key)
        for agent in self.agents:
            agent.box = nacl.public.Box(agent.key, hub_public)

    async def storm(self, concurrency: int, timeout: float) -> dict:
        """Joins every agent (at most `concurrency` connects in flight), then waits up to 60 s for every view to be
        complete. Returns the timeline (`started`, `welcomed`, `converged` monotonic times, `converged` None when the
        views did not converge), the failures by reason and each member's join time in seconds."""
        if self.storm_client == "epoll":
            if self.tls is not None:
                raise SystemExit("the epoll storm client speaks ws:// only; use --storm-client asyncio for wss://")
            return await loadgen_storm.storm(self, concurrency, timeout, keep=self.relay_client == "epoll")
        if self.relay_client == "epoll":
            raise SystemExit("the epoll relay client keeps the epoll storm's sockets: use --storm-client epoll")
        self.all_converged = asyncio.get_running_loop().create_future()
        gate = asyncio.Semaphore(concurrency)
        started = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*(self.join(agent, gate) for agent in self.agents)), timeout)
        welcomed = time.monotonic()
        failed = [agent for agent in self.agents if agent.phase != "member"]
        converged = None
        if not failed:
            try:
                converged = await asyncio.wait_for(asyncio.shield(self.all_converged), 60)
            except asyncio.TimeoutError:
                pass
        reasons: dict[str, int] = {}
        for agent in failed:
            reasons[agent.error or "unknown"] = reasons.get(agent.error or "unknown", 0) + 1
        return {"started": started, "welcomed": welcomed, "converged": converged, "failed": len(failed),
                "failure_reasons": reasons,
                "join_times": [agent.welcomed_at - agent.started for agent in self.agents if agent.phase == "member"]}

    async def join(self, agent: SimulatedAgent, gate: asyncio.Semaphore, attempts: int = 3) -> None:
        """Connects, answers the challenge and waits for the welcome; retries a failed attempt with a short backoff."""
        loop = asyncio.get_running_loop()
        for attempt in range(attempts):
            async with gate:
                agent.phase, agent.known, agent.error = "challenge", set(), None
                agent.joined = loop.create_future()
                agent.started = time.monotonic()
                port = self.port_of(agent)
                try:
                    _, connection = await asyncio.wait_for(loop.create_connection(
                        lambda: WebSocketConnection(self.request(agent.network, agent.token, port), self.on_message, agent),
                        self.host, port, **self.tls_arguments()), 30)
                    agent.connection = connection
                    await asyncio.wait_for(connection.opened, 30)
                    await asyncio.wait_for(agent.joined, 30)
                    return
                except (OSError, ConnectionError, asyncio.TimeoutError) as error:
                    agent.error = agent.error or type(error).__name__
                    if agent.connection is not None:
                        agent.connection.close()
                    agent.phase = "failed"
            await asyncio.sleep(0.5 * (attempt + 1))

    # protocol ----------------------------------------------------------------------------------------------------------
    def on_message(self, connection: WebSocketConnection, payload: bytes) -> None:
        agent: SimulatedAgent = connection.context
        if agent.phase == "member":
            received = time.monotonic_ns()
            relayed = riftproto.peek_signal(payload)
            if relayed is not None:
                self.on_signal(relayed[0], relayed[1], received)
                return
            self.on_member_message(agent, json.loads(payload))
            return
        message = json.loads(payload)
        kind = message.get("type")
        if agent.phase == "challenge" and kind == "challenge":
            self.answer_challenge(agent, connection, message)
        elif agent.phase == "hello" and kind == "welcome":
            agent.phase = "member"
            agent.welcomed_at = time.monotonic()
            agent.known.update(peer["public_key"] for peer in message["peers"])
            self.check_converged(agent)
            if not agent.joined.done():
                agent.joined.set_result(True)
        elif kind == "error":
            agent.error = message.get("code")
            if agent.joined is not None and not agent.joined.done():
                agent.joined.set_exception(ConnectionError(f"hub refused: {message.get('code')}: {message.get('message')}"))

    def answer_challenge(self, agent: SimulatedAgent, connection: WebSocketConnection, challenge: dict) -> None:
        """hello with proof = crypto_box(statement, random nonce, hub key, agent key) (PROTOCOL.md §5)."""
        hub_key, nonce = riftproto.challenge_keys(challenge)
        if agent.box is None or hub_key != self.hub_key:
            agent.box = nacl.public.Box(agent.key, nacl.public.PublicKey(hub_key))
        proof = riftproto.make_proof(agent.key, hub_key, nonce, agent.network, box=agent.box)
        agent.phase = "hello"
        agent.connection = connection
        connection.send_text(riftproto.encode(riftproto.hello(agent.public_key, f"bench-{agent.index}", proof)))

    def on_member_message(self, agent: SimulatedAgent, message: dict) -> None:
        kind = message.get("type")
        if kind == "peer_joined":
            agent.known.add(message["peer"]["public_key"])
            self.check_converged(agent)
        elif kind == "peer_left":
            agent.known.discard(message["public_key"])
            self.peer_left += 1
        elif kind == "error":
            self.on_error(message.get("code", "?"))

    def check_converged(self, agent: SimulatedAgent) -> None:
        if not agent.converged and len(agent.known) >= agent.expected:
            agent.converged = True
            self.converged_count += 1
            if (self.converged_count == len(self.agents) and self.all_converged is not None
                    and not self.all_converged.done()):
                self.all_converged.set_result(time.monotonic())

    def close_all(self) -> None:
        for agent in self.agents:
            if agent.connection is not None:
                agent.connection.close()
