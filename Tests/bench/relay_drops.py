"""Where datagrams are lost on a relayed pair: one iperf3 TCP run each way through riftgate's tunnel on a relayed
topology, with every lab namespace's UDP/IP drop counters (`nstat`) and the agents' UDP sockets (`ss -uam`) read
before and after, printed as deltas.

    flock /tmp/riftgate-cpu.lock timeout 900 .venv/bin/python Tests/bench/relay_drops.py \
        --bin-dir .build-bench-release/release [--topology hard-nats] [--seconds 5] [--relay-buffer BYTES]

`--relay-buffer` starts coturn with `deploy/coturn/socket-buffers.c` preloaded (the lab's `Coturn`, as
`deploy/provision-hub.sh --turn` sets it up), so that its sockets get at least BYTES of buffer: coturn 4.6.1
hard-codes 64 KiB for relay sockets. The default, 0, runs coturn as Debian ships it.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Tests", "lab"))
sys.path.insert(0, HERE)

from bench_mesh import BenchMesh  # noqa: E402
from lab import wait_for  # noqa: E402
from tunnel_bench import IPERF_PORT, iperf  # noqa: E402

COUNTERS = re.compile(r"^(Udp|Ip|TcpExt)\w*(RcvbufErrors|SndbufErrors|InErrors|NoPorts|MemErrors|InDiscards|OutDiscards|"
                      r"InCsumErrors|IgnoredMulti|OutRequests|InDatagrams|OutDatagrams|ReasmFails|OutNoRoutes)$")


def counters(host_ns: str) -> dict:
    from lab import run
    text = run("ip", "netns", "exec", host_ns, "nstat", "-az", "--json", check=False).stdout
    try:
        values = next(iter(json.loads(text).values()))
    except (ValueError, StopIteration):
        return {}
    return {key: value for key, value in values.items() if COUNTERS.match(key)}


def sockets(host) -> str:
    return host.exec("ss", "-uamn", check=False).stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--topology", default="hard-nats")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--relay-buffer", type=int, default=0, help="coturn's socket buffers through the preload (0: as shipped)")
    options = parser.parse_args()
    os.environ["RIFTGATE_BIN_DIR"] = os.path.abspath(options.bin_dir)
    workdir = tempfile.mkdtemp(prefix="relay-drops-")
    mesh = BenchMesh(options.topology, workdir, coturn_socket_buffer=options.relay_buffer)  # starts the hub and coturn
    try:
        mesh.start_agents()
        ip_a, ip_b = mesh.overlay()
        wait_for(lambda: mesh.hosts["a"].ping(ip_b), timeout=60, what="A to ping B")
        at_a = wait_for(lambda: (p := mesh.path_of_b_at_a()).get("state") == "connected" and p, timeout=30, what="connected")
        at_b = mesh.path_of_a_at_b()
        print(f"path at A: {at_a.get('path_mode')} {at_a.get('local_candidate')}; at B: {at_b.get('path_mode')} "
              f"{at_b.get('local_candidate')}", flush=True)
        mesh.hosts["b"].spawn("iperf3", "-s", "-p", str(IPERF_PORT), log=os.path.join(workdir, "iperf3.log"))
        wait_for(lambda: f":{IPERF_PORT} " in mesh.hosts["b"].exec("ss", "-tln", check=False).stdout, timeout=10,
                 what="iperf3")
        namespaces = list(mesh.lab.namespaces)
        for label, args in (("A to B", ["-P", "1"]), ("B to A (-R)", ["-P", "1", "-R"])):
            before = {ns: counters(ns) for ns in namespaces}
            result = iperf(mesh.hosts["a"], ip_b, args, options.seconds)
            after = {ns: counters(ns) for ns in namespaces}
            print(f"\n=== {label}: {result}", flush=True)
            for ns in namespaces:
                delta = {k: after[ns].get(k, 0) - v for k, v in before[ns].items() if after[ns].get(k, 0) - v}
                if delta:
                    print(f"  {ns}: {delta}", flush=True)
            for role in ("a", "b"):
                print(f"  --- ss -uamn at {role}:\n{sockets(mesh.hosts[role])}", flush=True)
        if mesh.deployment.coturn is not None:
            print("--- ss -uamn at relay (first 40 lines):")
            print("\n".join(mesh.topology.relay.exec("ss", "-uamn", check=False).stdout.splitlines()[:40]))
        mesh.b.down()
        mesh.a.down()
    finally:
        mesh.close()


if __name__ == "__main__":
    main()
