"""`make demo`: riftgate's main job in one command, on this machine, in throwaway network namespaces.

A hub and two laptops on one LAN (192.0.2.0/24): the hub issues a token, both agents join with it, find each other
through the hub, and bring up a WireGuard tunnel over the path ICE selects. The demo then shows `riftgate status` from
both sides, pings across the tunnel (IPv4, IPv6 and by DNS name), measures throughput with iperf3 for 3 s, prints a summary and
removes everything it created. Exit status 0 only if the tunnel worked. Needs root (network namespaces).
"""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from deployment import FULL_SIZE_PING, Deployment  # noqa: E402
from lab import Lab, can_build_labs, wait_for  # noqa: E402
from riftgate_lab import binary  # noqa: E402
from topologies import lan_topology  # noqa: E402

STARTED = time.monotonic()


def step(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:5.1f}s] {text}", flush=True)


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())


def ping_stats(host, target: str, count: int = 5) -> tuple[int, float | None]:
    """Sends `count` pings; returns (replies, average round trip in ms)."""
    result = host.exec("ping", "-c", str(count), "-i", "0.2", "-W", "1", target, check=False, timeout=count + 10)
    received = re.search(r"(\d+) received", result.stdout)
    average = re.search(r"= [\d.]+/([\d.]+)/", result.stdout)
    return (int(received.group(1)) if received else 0), (float(average.group(1)) if average else None)


def throughput(deployment: Deployment, server_ip: str) -> float:
    """iperf3 TCP from laptop a to laptop b through the tunnel for 3 s; returns Mbit/s received."""
    server = deployment.topology.peers["b"]
    server.spawn("iperf3", "--server", "--one-off", "--bind", server_ip,
                 log=os.path.join(deployment.workdir, "iperf3-server.log"))
    wait_for(lambda: f"{server_ip}:5201" in server.exec("ss", "-Hltn", check=False).stdout, timeout=10,
             what="the iperf3 server")
    result = deployment.topology.peers["a"].exec("iperf3", "--client", server_ip, "--time", "3", "--json", timeout=30)
    report = json.loads(result.stdout)
    return report["end"]["sum_received"]["bits_per_second"] / 1e6


def run(workdir: str) -> int:
    with Lab() as lab:
        step("creating the lab: namespaces hub (192.0.2.1), laptop a (192.0.2.10), laptop b (192.0.2.20) on one bridge")
        deployment = Deployment(lan_topology(lab), workdir)
        try:
            step("starting riftgate-hub, creating network 'lab' and a join token")
            deployment.start_hub()
            step(f"hub up at {deployment.hub.url}")
            a, b = deployment.agent("a"), deployment.agent("b")
            step("riftgate init + riftgate up on laptop a (WireGuard interface, hub session, waiting for peers)")
            a.start()
            step("riftgate init + riftgate up on laptop b")
            b_started = time.monotonic()
            b.start()
            step("waiting for the first ping through the tunnel (ICE negotiation through the hub, WireGuard handshake)")
            deployment.wait_for_ping("a", "b", timeout=30)
            connect_seconds = time.monotonic() - b_started
            step(f"tunnel up {connect_seconds:.1f} s after laptop b started")
            view = deployment.peer_view("a", "b")
            deployment.peer_view("b", "a")  # status refreshes every second: wait until both sides report the handshake
            for role, agent in (("a", a), ("b", b)):
                step(f"riftgate status on laptop {role}:")
                print(indent(agent.status_text()), flush=True)
            (a4, a6), (b4, b6) = deployment.overlay("a"), deployment.overlay("b")
            step(f"ping laptop b from laptop a: {b4} and {b6}")
            v4 = ping_stats(deployment.topology.peers["a"], b4)
            v6 = ping_stats(deployment.topology.peers["a"], b6)
            full = deployment.ping("a", "b", full_size=True)
            name_b = view.get("dns_name")  # <label>.<network>.rift, registered in laptop a's hosts file by its agent
            step(f"ping laptop b by its DNS name from laptop a: {name_b}")
            by_name = ping_stats(deployment.topology.peers["a"], name_b, count=3) if name_b else (0, None)
            step("iperf3 from laptop a to laptop b through the tunnel, 3 s")
            mbits = throughput(deployment, b4)
        except Exception as error:  # noqa: BLE001 - the demo reports any failure and exits non-zero
            step(f"FAILED: {error}")
            print(deployment.logs(), flush=True)
            return 1
        ok = v4[0] > 0 and v6[0] > 0 and full and by_name[0] > 0
        print(f"""
riftgate demo summary
  hub          {deployment.hub.url}, network 'lab'
  laptop a     {a4}  {a6}  (LAN 192.0.2.10)
  laptop b     {b4}  {b6}  (LAN 192.0.2.20)
  path         {view.get('path_type')} / {view.get('path_mode')}: {view.get('path_reason')}
  connected    {connect_seconds:.1f} s from laptop b starting to the first ping
  ping IPv4    {v4[0]}/5 replies, average {v4[1] if v4[1] is not None else '-'} ms
  ping IPv6    {v6[0]}/5 replies, average {v6[1] if v6[1] is not None else '-'} ms
  full size    {FULL_SIZE_PING}-byte ping with don't-fragment: {'ok' if full else 'FAILED'}
  by name      {name_b}: {by_name[0]}/3 replies, average {by_name[1] if by_name[1] is not None else '-'} ms
  throughput   {mbits:.0f} Mbit/s (iperf3 TCP, 3 s, a -> b through the tunnel)
  result       {'the tunnel works' if ok else 'the tunnel did NOT work'}
""", flush=True)
        step("cleaning up: stopping agents and hub, removing namespaces and interfaces")
        for agent in (b, a):
            agent.down()
        return 0 if ok else 1


def main() -> int:
    reason = can_build_labs()
    if reason:
        print(f"riftgate demo: {reason}", file=sys.stderr)
        return 2
    try:
        binary("riftgate"), binary("riftgate-hub")
    except FileNotFoundError as error:
        print(f"riftgate demo: {error}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="riftgate-demo-") as workdir:
        status = run(workdir)
    step("done" if status == 0 else "done, with failures")
    return status


if __name__ == "__main__":
    sys.exit(main())
