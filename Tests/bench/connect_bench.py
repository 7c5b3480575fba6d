"""Connect time: from starting the second agent to the first ping answered through the tunnel.

One hub and agent A stay up for the whole topology; agent B is started `runs` times. Before each start an ICMP probe
(`icmp_probe.py`, one echo every 10 ms) is already running in A's namespace towards B's overlay address (stable: B
keeps its key, so the hub gives it the same address). The time is taken just before B's process is spawned and
ends at the probe's first echo reply (same CLOCK_MONOTONIC). B is then stopped with `riftgate down`, and the next run
starts only once A has removed B's WireGuard peer, so every run is a cold connect.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

from bench_mesh import BenchMesh
from lab import wait_for
from procstats import percentile
from riftgate_lab import wg_show
from workdirs import work_directory

HERE = os.path.dirname(os.path.abspath(__file__))


def log(text: str) -> None:
    print(f"[connect] {text}", file=sys.stderr, flush=True)


def one_connect(mesh: BenchMesh, ip_b: str, timeout: float) -> float | None:
    probe = subprocess.Popen(["ip", "netns", "exec", mesh.hosts["a"].netns, sys.executable,
                              os.path.join(HERE, "icmp_probe.py"), ip_b, "--interval", "0.01", "--timeout", str(timeout)],
                             stdout=subprocess.PIPE, text=True)
    try:
        if probe.stdout.readline().strip() != "ready":
            raise RuntimeError("the ICMP probe did not start")
        started = time.monotonic()
        mesh.b.start()
        answer = probe.stdout.readline().strip()
        probe.wait(timeout=5)
    finally:
        if probe.poll() is None:
            probe.kill()
            probe.wait()
    if answer in ("", "timeout"):
        return None
    return float(answer) - started


def measure_topology(topology: str, runs: int, timeout: float, work_root: str) -> dict:
    with work_directory(work_root, f"connect-{topology}") as workdir:
        mesh = BenchMesh(topology, workdir)
        try:
            mesh.a.start()
            mesh.b.start()  # a first start registers B and fixes its overlay address
            ip_b = mesh.b.overlay_ipv4()
            key_b = mesh.b.status()["public_key"]
            wait_for(lambda: mesh.hosts["a"].ping(ip_b), timeout=60, what="the first connection")
            times: list[float] = []
            failures = 0
            paths: dict[str, int] = {}
            for run in range(runs):
                mesh.b.down()
                wait_for(lambda: key_b not in wg_show(mesh.hosts["a"], mesh.a.interface), timeout=30,
                         what="A to remove B's peer")
                elapsed = one_connect(mesh, ip_b, timeout)
                if elapsed is None:
                    failures += 1
                    log(f"{topology} run {run + 1}: no reply within {timeout:.0f} s")
                else:
                    times.append(elapsed)
                    peer = mesh.path_of_b_at_a()
                    label = f"{peer.get('path_type')}/{peer.get('path_mode')}"
                    paths[label] = paths.get(label, 0) + 1
                    log(f"{topology} run {run + 1}: {elapsed * 1000:.0f} ms ({label})")
            mesh.b.down()
            mesh.a.down()
            ordered = sorted(times)
            return {
                "topology": topology, "runs": runs, "failures": failures, "paths": paths,
                "p50_s": round(percentile(ordered, 50), 3) if ordered else None,
                "p95_s": round(percentile(ordered, 95), 3) if ordered else None,
                "min_s": round(ordered[0], 3) if ordered else None,
                "max_s": round(ordered[-1], 3) if ordered else None,
                "samples_s": [round(value, 3) for value in times],
            }
        except Exception:
            log("agent A log tail:\n" + mesh.a.log()[-3000:])
            log("agent B log tail:\n" + mesh.b.log()[-3000:])
            raise
        finally:
            mesh.close()


def run_connect(work_root: str, topologies=("lan", "home-nats", "hard-nats"), runs: int = 20, timeout: float = 30) -> dict:
    results = {"topologies": {}}
    for topology in topologies:
        try:
            results["topologies"][topology] = measure_topology(topology, runs, timeout, work_root)
        except Exception as error:  # keep the other topologies' figures
            log(f"{topology} failed: {error}")
            results["topologies"][topology] = {"topology": topology, "error": str(error)}
    return results
