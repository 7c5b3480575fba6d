"""The soak's churn load: simulated agents that join, leave, get replaced and revoked while signals flow between them.

Run by `soak.py` inside the hub's namespace (one process, asyncio). Every agent follows the protocol (challenge, proof
of possession, hello) through the bench's minimal WebSocket client and the integration tests' proof code, and keeps
what it was told about its network (welcome + peer_joined - peer_left). The churner knows what really happened, so it
checks the hub's word against it:

- a `peer_left` must follow a real departure of that key (closed, revoked); a replaced session is no departure;
- every signal sent between two agents that both stayed put must arrive, exactly once, at the right recipient, with the
  sender's key in `from`;
- when the churn stops, every agent's view of its network must equal the network's real membership.

Prints progress on stderr and one JSON object on stdout (its last line). Never asserts: `soak.py` judges.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The load generator's WebSocket transport, and the protocol encoding shared with the integration tests.
sys.path[:0] = [os.path.join(HERE, "..", "bench"), os.path.join(HERE, "..", "protoclient")]

import nacl.public  # noqa: E402
import riftproto  # noqa: E402
from wsclient import WebSocketConnection  # noqa: E402

# How long after an event on a key a signal to or from it may fail, or a presence message about it may arrive.
SETTLE_SECONDS = 5.0


def log(text: str) -> None:
    print(f"[churn] {text}", file=sys.stderr, flush=True)


class SoakAgent:
    """One simulated agent: its key (renewed after a revocation), its connection and what the hub told it."""

    def __init__(self, index: int, network: str, token: str):
        self.index, self.network, self.token = index, network, token
        self.new_key()
        self.connection: WebSocketConnection | None = None
        self.member = False  # welcomed on the current connection
        self.known: set[str] = set()
        self.busy = False  # an action (leave, replace, revoke) is in progress

    def new_key(self) -> None:
        self.key = nacl.public.PrivateKey.generate()
        self.public_key = base64.b64encode(bytes(self.key.public_key)).decode()


class Churner:
    """The agents, the actions on them, and the record of what really happened."""

    def __init__(self, options):
        self.options = options
        self.host, self.port = options.host, options.port
        tokens = json.loads(options.tokens)
        per_network = max(1, options.agents // len(tokens))
        self.agents = [SoakAgent(index, tokens[index // per_network % len(tokens)]["network"],
                                 tokens[index // per_network % len(tokens)]["token"]) for index in range(options.agents)]
        self.by_key: dict[str, SoakAgent] = {}
        self.events: dict[str, list[float]] = {}  # key -> monotonic times of its departures, replacements, revocations
        self.departed: dict[str, float] = {}  # key -> time of its last real departure (closed or revoked)
        self.outstanding: dict[int, tuple[str, str, float]] = {}  # seq -> (sender key, recipient key, sent at)
        self.sequence = 0
        self.counts = {"joins": 0, "leaves": 0, "replacements": 0, "revocations": 0, "signals_sent": 0,
                       "signals_delivered": 0, "signals_refused_recipient_gone": 0, "join_failures": 0}
        self.problems: dict[str, list] = {"false_peer_left": [], "lost_signals": [], "duplicate_signals": [],
                                          "misdelivered_signals": [], "wrong_sender": [], "unexpected_errors": [],
                                          "final_view_mismatch": []}

    # --- connections ----------------------------------------------------------------------------------------------
    def request(self, agent: SoakAgent) -> bytes:
        return riftproto.upgrade_request(self.host, self.port, riftproto.network_path(agent.network), {
            **riftproto.bearer(agent.token), "Sec-WebSocket-Protocol": riftproto.SUBPROTOCOL})

    async def connect(self, agent: SoakAgent) -> bool:
        """Opens a connection for `agent`'s current key and waits for its welcome; True when welcomed."""
        loop = asyncio.get_running_loop()
        state = {"welcomed": loop.create_future(), "agent": agent}
        try:
            _, connection = await asyncio.wait_for(loop.create_connection(
                lambda: WebSocketConnection(self.request(agent), self.on_message, state), self.host, self.port), 15)
            state["connection"] = connection
            await asyncio.wait_for(connection.opened, 15)
            await asyncio.wait_for(state["welcomed"], 15)
        except (OSError, ConnectionError, asyncio.TimeoutError) as error:
            self.counts["join_failures"] += 1
            log(f"agent {agent.index} could not join: {type(error).__name__}: {error}")
            if state.get("connection") is not None:
                state["connection"].close()
            return False
        self.counts["joins"] += 1
        return True

    def on_message(self, connection: WebSocketConnection, payload: bytes) -> None:
        state = connection.context
        agent: SoakAgent = state["agent"]
        message = json.loads(payload)
        kind = message.get("type")
        if kind == "challenge":
            hub_key, nonce = riftproto.challenge_keys(message)
            proof = riftproto.make_proof(agent.key, hub_key, nonce, agent.network)
            connection.send_text(riftproto.encode(riftproto.hello(agent.public_key, f"soak-{agent.index}", proof)))
        elif kind == "welcome":
            previous = agent.connection
            agent.connection, agent.member = connection, True
            agent.known = {peer["public_key"] for peer in message["peers"]}
            self.by_key[agent.public_key] = agent
            if previous is not None and previous is not connection:
                state["replaced"] = previous
            if not state["welcomed"].done():
                state["welcomed"].set_result(True)
        elif agent.connection is not connection:
            return  # a replaced or closed connection's last words
        elif kind == "peer_joined":
            agent.known.add(message["peer"]["public_key"])
        elif kind == "peer_left":
            key = message["public_key"]
            agent.known.discard(key)
            departed = self.departed.get(key)
            if departed is None or time.monotonic() - departed > SETTLE_SECONDS + 5:
                self.problems["false_peer_left"].append({"viewer": agent.index, "peer": key, "reason": message.get("reason")})
        elif kind in ("offer", "answer", "candidate"):
            self.on_signal(agent, message)
        elif kind == "error":
            self.on_error(agent, message)

    def on_signal(self, recipient: SoakAgent, message: dict) -> None:
        self.counts["signals_delivered"] += 1
        nonce = base64.b64decode(message["sealed"]["nonce"])
        seq = struct.unpack_from("<Q", nonce, 8)[0]
        entry = self.outstanding.pop(seq, None)
        if entry is None:
            self.problems["duplicate_signals"].append(seq)
            return
        sender, target, _ = entry
        if target != recipient.public_key:
            self.problems["misdelivered_signals"].append(seq)
        if message.get("from") != sender:
            self.problems["wrong_sender"].append(seq)

    def on_error(self, agent: SoakAgent, message: dict) -> None:
        code, ref = message.get("code"), message.get("ref", "")
        if code == "peer_not_found" and ref.startswith("s"):
            seq = int(ref[1:])
            entry = self.outstanding.pop(seq, None)
            if entry is not None:
                recipient = entry[1]
                if self.moved(recipient, time.monotonic() - SETTLE_SECONDS - 5, time.monotonic()):
                    self.counts["signals_refused_recipient_gone"] += 1
                else:
                    self.problems["lost_signals"].append({"seq": seq, "why": "peer_not_found for a present recipient"})
            return
        if code in ("replaced", "peer_revoked"):
            return  # the churner caused it
        self.problems["unexpected_errors"].append({"agent": agent.index, "code": code, "message": message.get("message")})

    # --- actions --------------------------------------------------------------------------------------------------
    def moved(self, key: str, start: float, end: float) -> bool:
        """Whether `key` left, was replaced or revoked between `start` and `end`."""
        return any(start <= at <= end for at in self.events.get(key, ()))

    def mark(self, key: str, departed: bool) -> None:
        now = time.monotonic()
        self.events.setdefault(key, []).append(now)
        if departed:
            self.departed[key] = now

    async def leave_and_return(self, agent: SoakAgent) -> None:
        self.counts["leaves"] += 1
        self.mark(agent.public_key, departed=True)
        agent.member = False
        agent.connection.close()
        agent.connection = None
        await asyncio.sleep(random.uniform(1, 5))
        await self.connect(agent)

    async def replace(self, agent: SoakAgent) -> None:
        """A second connection with the same key: the hub must close the first without announcing a departure."""
        self.counts["replacements"] += 1
        self.mark(agent.public_key, departed=False)
        old = agent.connection
        if await self.connect(agent) and old is not None:
            try:
                await asyncio.wait_for(asyncio.shield(old.closed), 10)
            except asyncio.TimeoutError:
                self.problems["unexpected_errors"].append({"agent": agent.index, "code": "replaced connection left open"})

    async def revoke_and_return(self, agent: SoakAgent) -> None:
        """The admin revokes the key (the hub closes the session); the machine comes back with a new key."""
        self.counts["revocations"] += 1
        self.mark(agent.public_key, departed=True)
        old_key = agent.public_key
        result = await asyncio.to_thread(subprocess.run, [self.options.hub_bin, "peer", "revoke", agent.network, old_key,
                                                          "--state-dir", self.options.state_dir],
                                         capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            self.problems["unexpected_errors"].append({"agent": agent.index, "code": "revoke failed", "message": result.stderr})
        if agent.connection is not None:
            try:
                await asyncio.wait_for(asyncio.shield(agent.connection.closed), 10)
            except asyncio.TimeoutError:
                self.problems["unexpected_errors"].append({"agent": agent.index, "code": "revoked session left open"})
        agent.member, agent.connection = False, None
        self.by_key.pop(old_key, None)
        agent.new_key()
        await asyncio.sleep(random.uniform(1, 3))
        await self.connect(agent)

    async def act(self, action, agent: SoakAgent) -> None:
        agent.busy = True
        try:
            await action(agent)
        finally:
            agent.busy = False

    # --- relay ----------------------------------------------------------------------------------------------------
    def send_signal(self, box: str) -> None:
        members = [agent for agent in self.agents if agent.member and not agent.busy]
        if len(members) < 2:
            return
        sender = random.choice(members)
        recipients = [self.by_key[key] for key in sender.known if key in self.by_key and self.by_key[key].member
                      and self.by_key[key].network == sender.network and not self.by_key[key].busy]
        if not recipients:
            return
        recipient = random.choice(recipients)
        self.sequence += 1
        nonce = base64.b64encode(struct.pack("<QQQ", time.monotonic_ns(), self.sequence, 0)).decode()
        self.outstanding[self.sequence] = (sender.public_key, recipient.public_key, time.monotonic())
        sender.connection.send_text(riftproto.encode(riftproto.signal("offer", recipient.public_key,
                                                                      {"nonce": nonce, "box": box}, f"s{self.sequence}")))
        self.counts["signals_sent"] += 1

    def settle_outstanding(self, older_than: float) -> None:
        """Signals not delivered within `older_than` seconds: excused when an end moved around then, else lost."""
        now = time.monotonic()
        for seq, (sender, recipient, sent) in list(self.outstanding.items()):
            if now - sent < older_than:
                continue
            del self.outstanding[seq]
            if self.moved(sender, sent - 1, sent + SETTLE_SECONDS) or self.moved(recipient, sent - 1, sent + SETTLE_SECONDS):
                continue
            recipient_agent = self.by_key.get(recipient)
            self.problems["lost_signals"].append({
                "seq": seq, "why": f"not delivered within {older_than:.0f} s", "age_s": round(now - sent, 1),
                "sender_events_s": [round(at - sent, 1) for at in self.events.get(sender, ())][-5:],
                "recipient_events_s": [round(at - sent, 1) for at in self.events.get(recipient, ())][-5:],
                "recipient_member_now": bool(recipient_agent and recipient_agent.member),
                "recipient_index": recipient_agent.index if recipient_agent else None})

    # --- the run --------------------------------------------------------------------------------------------------
    async def run(self) -> dict:
        started = time.monotonic()
        gate = asyncio.Semaphore(50)

        async def first_join(agent):
            async with gate:
                await self.connect(agent)
        await asyncio.gather(*(first_join(agent) for agent in self.agents))
        log(f"{sum(agent.member for agent in self.agents)}/{len(self.agents)} agents joined in "
            f"{time.monotonic() - started:.1f} s; churning for {self.options.seconds:.0f} s")
        print(json.dumps({"event": "ready"}), flush=True)
        box = base64.b64encode(os.urandom(494)).decode()
        actions = (self.leave_and_return, self.replace, self.revoke_and_return)
        weights = (self.options.leave_weight, self.options.replace_weight, self.options.revoke_weight)
        tasks: set[asyncio.Task] = set()
        deadline = started + self.options.seconds
        tick = 0.01
        next_report = time.monotonic() + 30
        signal_debt = churn_debt = 0.0
        while time.monotonic() < deadline:
            await asyncio.sleep(tick)
            signal_debt += self.options.relay_rate * tick
            churn_debt += self.options.churn_rate * tick
            while signal_debt >= 1:
                signal_debt -= 1
                self.send_signal(box)
            while churn_debt >= 1:
                churn_debt -= 1
                idle = [agent for agent in self.agents if agent.member and not agent.busy]
                if idle:
                    task = asyncio.create_task(self.act(random.choices(actions, weights)[0], random.choice(idle)))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            if time.monotonic() >= next_report:
                next_report += 30
                self.settle_outstanding(SETTLE_SECONDS)
                log(json.dumps(self.counts) + " problems " + json.dumps({k: len(v) for k, v in self.problems.items()}))
        log("churn stopped; letting the last actions finish")
        if tasks:
            await asyncio.wait(tasks, timeout=60)
        await asyncio.sleep(SETTLE_SECONDS)
        self.settle_outstanding(0)
        self.check_final_views()
        for agent in self.agents:
            if agent.connection is not None:
                agent.connection.close()
        return {"counts": self.counts, "problems": {name: items[:20] for name, items in self.problems.items()},
                "problem_counts": {name: len(items) for name, items in self.problems.items()}}

    def check_final_views(self) -> None:
        members: dict[str, set[str]] = {}
        for agent in self.agents:
            if agent.member:
                members.setdefault(agent.network, set()).add(agent.public_key)
        for agent in self.agents:
            if not agent.member:
                continue
            expected = members[agent.network] - {agent.public_key}
            if agent.known != expected:
                self.problems["final_view_mismatch"].append({
                    "agent": agent.index, "missing": len(expected - agent.known), "extra": len(agent.known - expected)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens", required=True, help='JSON: [{"network": ..., "token": ...}, ...]')
    parser.add_argument("--hub-bin", required=True, help="riftgate-hub, for `peer revoke`")
    parser.add_argument("--state-dir", required=True, help="the hub's state directory")
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=1800)
    parser.add_argument("--churn-rate", type=float, default=2.0, help="actions per second over all agents")
    parser.add_argument("--relay-rate", type=float, default=100.0, help="signals per second over all agents")
    parser.add_argument("--leave-weight", type=float, default=6)
    parser.add_argument("--replace-weight", type=float, default=3)
    parser.add_argument("--revoke-weight", type=float, default=1)
    options = parser.parse_args()
    result = asyncio.run(Churner(options).run())
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
