"""A riftgate peer written from Protocol/PROTOCOL.md alone, with another ICE library: aioice (Python) instead of libnice.

It joins a network through the hub (websockets + PyNaCl, §5), negotiates ICE with every riftgate agent it meets using
sealed offer / answer / candidate / end_of_candidates / restart messages (§7, §8, §10; aioice is a full ICE agent with
trickle and consent freshness, and nominates regularly where libnice nominates aggressively), and carries WireGuard
(an unmodified wireguard-go it configures with `wg`) over the pair aioice selected, as §9 says: direct for host ↔ host
(WireGuard to the peer's `listen_port`), otherwise forwarded (every WireGuard datagram as one datagram on the ICE
component, both ways, through a loopback socket that is WireGuard's endpoint for the peer).

Run inside a lab namespace by test_ice_interop.py:

    python ice_interop_peer.py --hub ws://HOST:PORT --network NAME --token-file F --key-file F --interface IF
        --status-file F

`--key-file` holds the 32-byte X25519 private key in base64 (it is also the WireGuard key, §1). The status file is
rewritten as JSON whenever a peer's path is configured: {peer key: {"path", "local", "remote", "generation",
"controlling"}} plus "self" (the welcome's PeerInfo).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import ipaddress
import json
import os
import secrets
import subprocess
import sys
import time

import aioice.ice
import nacl.public
from aioice import Candidate, Connection, TransportPolicy
from websockets.asyncio.client import connect

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "protoclient"))
import riftproto  # noqa: E402

WIREGUARD_PORT = 51999
SIGNAL_KINDS = ("offer", "answer", "candidate", "end_of_candidates", "restart")


def leave_out_overlay(prefixes: list[str]) -> None:
    """Makes aioice gather no candidate on the overlay (our WireGuard interface's addresses): a path through the
    tunnel cannot carry the tunnel. aioice has no setting for it, so its address lister is wrapped."""
    networks = [ipaddress.ip_network(prefix) for prefix in prefixes]
    listed = aioice.ice.get_host_addresses

    def outside_overlay(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [address for address in listed(use_ipv4=use_ipv4, use_ipv6=use_ipv6)
                if not any(ipaddress.ip_address(address.split("%")[0]) in network for network in networks)]
    aioice.ice.get_host_addresses = outside_overlay


def log(text: str) -> None:
    print(f"[interop-peer] {time.time():.3f} {text}", flush=True)


def run(*args: str, data: str | None = None) -> None:
    subprocess.run(args, input=data, text=True, check=True, timeout=15)


class WireGuard:
    """wireguard-go on `interface`, configured with `ip` and `wg` (nothing of riftgate's)."""

    def __init__(self, interface: str, private_key: str):
        self.interface = interface
        env = {**os.environ, "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD": "1"}
        self.process = subprocess.Popen(["wireguard-go", "-f", interface], env=env)
        socket_path = f"/var/run/wireguard/{interface}.sock"
        for _ in range(100):
            if os.path.exists(socket_path):
                break
            time.sleep(0.1)
        key_file = f"/dev/shm/{interface}.key"
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(private_key + "\n")
        run("wg", "set", interface, "private-key", key_file, "listen-port", str(WIREGUARD_PORT))
        os.unlink(key_file)

    def address(self, ipv4: str, prefix: str) -> None:
        run("ip", "address", "add", f"{ipv4}/{prefix.split('/')[1]}", "dev", self.interface)
        run("ip", "link", "set", self.interface, "up")

    def set_peer(self, key: str, endpoint: str, allowed_ips: list[str], keepalive: bool) -> None:
        """Points the peer at `endpoint`; with `keepalive`, persistent keepalive 1 s too (WireGuard then starts a
        handshake at once)."""
        run("wg", "set", self.interface, "peer", key, "endpoint", endpoint, "allowed-ips", ",".join(allowed_ips),
            *(["persistent-keepalive", "1"] if keepalive else []))

    def enable_keepalive(self, key: str) -> None:
        run("wg", "set", self.interface, "peer", key, "persistent-keepalive", "1")


class Forwarder(asyncio.DatagramProtocol):
    """WireGuard's endpoint for one peer on a forwarded path: its datagrams go onto the ICE component and back."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.transport = None
        self.task = None
        self.counts = {"from_wireguard": 0, "from_ice": 0}

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.task = asyncio.ensure_future(self.deliver())
        self.reporter = asyncio.ensure_future(self.report())

    async def report(self) -> None:
        """Logs the datagrams forwarded each way every 2 s while they change (for a failure's log)."""
        last = None
        while True:
            await asyncio.sleep(2)
            if self.counts != last:
                last = dict(self.counts)
                log(f"forwarded datagrams: {last}")

    def datagram_received(self, data: bytes, addr) -> None:
        self.counts["from_wireguard"] += 1
        asyncio.ensure_future(self.connection.send(data))

    async def deliver(self) -> None:
        while True:
            data = await self.connection.recv()
            self.counts["from_ice"] += 1
            self.transport.sendto(data, ("127.0.0.1", WIREGUARD_PORT))

    def close(self) -> None:
        if self.task:
            self.task.cancel()
            self.reporter.cancel()
        if self.transport:
            self.transport.close()


class PeerLink:
    """The ICE sessions with one riftgate peer (§8) and the WireGuard path over the selected pair (§9)."""

    def __init__(self, client: "Client", info: dict):
        self.client = client
        self.info = info
        self.key = info["public_key"]
        raw_key = base64.b64decode(self.key)
        self.box = nacl.public.Box(client.private_key, nacl.public.PublicKey(raw_key))
        self.controlling = bytes(client.private_key.public_key) < raw_key
        self.session = secrets.token_hex(8) if self.controlling else None
        self.generation = -1
        self.connection: Connection | None = None
        self.remote_hosts: set[tuple[str, int]] = set()
        self.remote_listen_port = 0
        self.forwarder: Forwarder | None = None
        self.tasks: list[asyncio.Task] = []

    # signaling (§7) ---------------------------------------------------------------------------------------------------
    async def send(self, kind: str, **fields) -> None:
        plaintext = {"type": kind, "from": self.client.public_key, "to": self.key, "session": self.session,
                     "generation": self.generation, **fields}
        encoded = json.dumps(plaintext, separators=(",", ":"), sort_keys=True).encode()
        sealed = self.box.encrypt(encoded, os.urandom(24))
        await self.client.send(riftproto.signal(kind, self.key, {"nonce": riftproto.b64(sealed.nonce),
                                                                  "box": riftproto.b64(sealed.ciphertext)}))

    def open(self, message: dict) -> dict | None:
        try:
            plaintext = self.box.decrypt(base64.b64decode(message["sealed"]["box"]),
                                         base64.b64decode(message["sealed"]["nonce"]))
            payload = json.loads(plaintext)
        except Exception as error:  # noqa: BLE001 - anything that fails to open is discarded (§7)
            log(f"discarded a {message.get('type')} that does not open: {error}")
            return None
        if payload.get("type") != message["type"] or payload.get("from") != self.key \
                or payload.get("to") != self.client.public_key:
            log(f"discarded a {message['type']} whose sealed fields do not match its envelope")
            return None
        return payload

    def description(self) -> dict:
        connection = self.connection
        return {"ice": {"ufrag": connection.local_username, "pwd": connection.local_password,
                        "candidates": [f"candidate:{c.to_sdp()}" for c in connection.local_candidates]},
                "wireguard": {"public_key": self.client.public_key, "listen_port": WIREGUARD_PORT}}

    # generations (§8) -------------------------------------------------------------------------------------------------
    async def new_connection(self, controlling: bool, relay_only: bool = False) -> None:
        await self.close_connection()
        self.remote_hosts = set()
        turn = self.client.turn
        self.connection = Connection(
            ice_controlling=controlling, stun_server=self.client.stun_server,
            turn_server=turn and turn["server"], turn_username=turn and turn["username"],
            turn_password=turn and turn["password"],
            transport_policy=TransportPolicy.RELAY if relay_only else TransportPolicy.ALL)
        await self.connection.gather_candidates()

    async def offer(self) -> None:
        """Controlling side: a new generation (§8)."""
        self.generation += 1
        await self.new_connection(controlling=True)
        log(f"offer generation {self.generation} to {self.key[:8]}")
        await self.send("offer", **self.description())
        await self.send("end_of_candidates")

    async def receive(self, message: dict) -> None:
        payload = self.open(message)
        if payload is None:
            return
        kind = payload["type"]
        if kind == "offer" and not self.controlling:
            if (payload["session"], payload["generation"]) == (self.session, self.generation):
                return  # duplicate
            if payload["session"] == self.session and payload["generation"] < self.generation:
                return  # stale
            self.session, self.generation = payload["session"], payload["generation"]
            # §10.4: a relay-only offer makes this side gather relayed candidates only too.
            await self.new_connection(controlling=False, relay_only=payload.get("relay_only", False))
            await self.accept_description(payload)
            log(f"answer generation {self.generation} to {self.key[:8]}")
            await self.send("answer", **self.description())
            await self.send("end_of_candidates")
            self.start_connecting()
        elif kind == "answer" and self.controlling:
            if (payload["session"], payload["generation"]) != (self.session, self.generation):
                return
            await self.accept_description(payload)
            self.start_connecting()
        elif kind in ("candidate", "end_of_candidates"):
            if (payload["session"], payload["generation"]) != (self.session, self.generation) or not self.connection:
                return
            if kind == "candidate":
                await self.add_candidate(payload["candidate"])
            else:
                await self.connection.add_remote_candidate(None)
        elif kind == "restart" and self.controlling:
            log(f"restart asked by {self.key[:8]}: {payload.get('reason')}")
            await self.offer()

    async def accept_description(self, payload: dict) -> None:
        self.connection.remote_username = payload["ice"]["ufrag"]
        self.connection.remote_password = payload["ice"]["pwd"]
        self.remote_listen_port = payload["wireguard"]["listen_port"]
        for line in payload["ice"]["candidates"]:
            await self.add_candidate(line)

    async def add_candidate(self, line: str) -> None:
        """Adds one signaled candidate, in order (the end of candidates must come after all of them)."""
        try:
            candidate = Candidate.from_sdp(line.removeprefix("candidate:"))
        except Exception:  # noqa: BLE001 - a candidate we cannot use is ignored (§10.2)
            log(f"ignored candidate {line!r}")
            return
        if candidate.component != 1 or candidate.transport.upper() != "UDP":
            return
        if candidate.type == "host":
            self.remote_hosts.add((candidate.host, candidate.port))
        await self.connection.add_remote_candidate(candidate)

    def start_connecting(self) -> None:
        self.tasks.append(asyncio.ensure_future(self.connect(self.connection, self.generation)))

    async def connect(self, connection: Connection, generation: int) -> None:
        try:
            await connection.connect()
        except ConnectionError as error:
            log(f"generation {generation} with {self.key[:8]} failed: {error}")
            if not self.controlling and connection is self.connection:
                await self.send("restart", reason="ICE failed (aioice)")
            return
        selected = None
        while connection is self.connection:  # follow a later nomination (§10.3)
            pair = connection._nominated.get(1)  # aioice keeps the selected pair here
            if pair is not None and pair is not selected:
                selected = pair
                self.configure(pair, generation)
            await asyncio.sleep(0.25)

    # the data path (§9) -----------------------------------------------------------------------------------------------
    def configure(self, pair, generation: int) -> None:
        local, remote = pair.protocol.local_candidate, pair.remote_candidate
        direct = local.type == "host" and (remote.host, remote.port) in self.remote_hosts
        allowed = [f"{self.info['ipv4']}/32", f"{self.info['ipv6']}/128"]
        if self.forwarder:
            self.forwarder.close()
            self.forwarder = None
        if direct:
            endpoint = f"{remote.host}:{self.remote_listen_port}"
        else:
            loop = asyncio.get_running_loop()
            self.forwarder = Forwarder(self.connection)
            asyncio.ensure_future(loop.create_datagram_endpoint(lambda: self.forwarder, local_addr=("127.0.0.1", 0)))
            endpoint = None
        asyncio.ensure_future(self.set_wireguard_peer(endpoint, allowed, pair, generation, direct))

    async def set_wireguard_peer(self, endpoint, allowed, pair, generation: int, direct: bool) -> None:
        while endpoint is None:
            if self.forwarder.transport is not None:
                endpoint = "127.0.0.1:%d" % self.forwarder.transport.get_extra_info("sockname")[1]
            else:
                await asyncio.sleep(0.01)
        self.client.wireguard.set_peer(self.key, endpoint, allowed, keepalive=self.controlling)
        if not self.controlling:
            # §9.5: the controlled side enables keepalive 250 ms after the controlling side; if both started their
            # handshakes at once, each would drop the answer to its own (WireGuard's handshake collision).
            asyncio.get_running_loop().call_later(0.25, self.client.wireguard.enable_keepalive, self.key)
        local, remote = pair.protocol.local_candidate, pair.remote_candidate
        log(f"{self.key[:8]} generation {generation}: {'direct' if direct else 'forwarded'} "
            f"{local.type} {local.host}:{local.port} -> {remote.type} {remote.host}:{remote.port}")
        self.client.paths[self.key] = {"path": "direct" if direct else "forwarded", "generation": generation,
                                       "controlling": self.controlling,
                                       "local": f"{local.type} {local.host}:{local.port}",
                                       "remote": f"{remote.type} {remote.host}:{remote.port}"}
        self.client.write_status()

    async def close_connection(self) -> None:
        if self.forwarder:
            self.forwarder.close()
            self.forwarder = None
        if self.connection is not None:
            connection, self.connection = self.connection, None
            await connection.close()


class Client:
    """The hub connection (§3, §5) and the peers met through it."""

    def __init__(self, options):
        self.options = options
        with open(options.key_file) as handle:
            self.private_key = nacl.public.PrivateKey(base64.b64decode(handle.read().strip()))
        self.public_key = riftproto.b64(bytes(self.private_key.public_key))
        with open(options.token_file) as handle:
            self.token = handle.read().strip()
        self.websocket = None
        self.stun_server: tuple[str, int] | None = None
        self.turn: dict | None = None
        self.wireguard: WireGuard | None = None
        self.links: dict[str, PeerLink] = {}
        self.paths: dict[str, dict] = {}
        self.self_info: dict = {}

    async def send(self, message: dict) -> None:
        await self.websocket.send(riftproto.encode(message).decode())

    def write_status(self) -> None:
        temporary = self.options.status_file + ".new"
        with open(temporary, "w") as handle:
            json.dump({"self": self.self_info, **self.paths}, handle)
        os.replace(temporary, self.options.status_file)

    async def run(self) -> None:
        url = self.options.hub + riftproto.network_path(self.options.network)
        async with connect(url, subprotocols=[riftproto.SUBPROTOCOL], additional_headers=riftproto.bearer(self.token),
                           max_size=2**20) as websocket:
            self.websocket = websocket
            challenge = json.loads(await websocket.recv())
            hub_key, nonce = riftproto.challenge_keys(challenge)
            proof = riftproto.make_proof(self.private_key, hub_key, nonce, self.options.network)
            await self.send(riftproto.hello(self.public_key, "aioice-peer", proof))
            async for text in websocket:
                await self.handle(json.loads(text))

    async def handle(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "welcome":
            self.welcome(message)
            for info in message["peers"]:
                await self.peer_present(info)
        elif kind == "peer_joined":
            await self.peer_present(message["peer"])
        elif kind == "peer_left":
            link = self.links.pop(message["public_key"], None)
            if link:
                await link.close_connection()
        elif kind in SIGNAL_KINDS:
            link = self.links.get(message.get("from"))
            if link:
                await link.receive(message)
        elif kind == "error":
            log(f"hub error: {message}")

    def welcome(self, message: dict) -> None:
        self.self_info = message["self"]
        leave_out_overlay([message["ipv4_prefix"], message["ipv6_prefix"]])
        stun = message["ice"]["stun"][0].removeprefix("stun:")
        host, port = stun.rsplit(":", 1)
        self.stun_server = (host, int(port))
        for entry in message["ice"]["turn"]:  # the first TURN server over UDP, with the hub's credentials
            url = next((u for u in entry["urls"] if u.startswith("turn:") and "transport=tcp" not in u), None)
            if url:
                host, port = url.removeprefix("turn:").split("?")[0].rsplit(":", 1)
                self.turn = {"server": (host, int(port)), "username": entry["username"], "password": entry["credential"]}
                break
        private_key = riftproto.b64(bytes(self.private_key))
        self.wireguard = WireGuard(self.options.interface, private_key)
        self.wireguard.address(self.self_info["ipv4"], message["ipv4_prefix"])
        self.write_status()
        log(f"joined as {self.self_info['ipv4']}, STUN {self.stun_server}, TURN {self.turn and self.turn['server']}")

    async def peer_present(self, info: dict) -> None:
        if info["public_key"] in self.links:
            return
        link = PeerLink(self, info)
        self.links[link.key] = link
        log(f"peer {info['name']} {link.key[:8]}: {'we control' if link.controlling else 'it controls'}")
        if link.controlling:
            await link.offer()


def main() -> None:
    parser = argparse.ArgumentParser()
    for flag in ("--hub", "--network", "--token-file", "--key-file", "--interface", "--status-file"):
        parser.add_argument(flag, required=True)
    asyncio.run(Client(parser.parse_args()).run())


if __name__ == "__main__":
    main()
