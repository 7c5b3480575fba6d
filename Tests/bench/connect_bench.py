"""Connect time: from starting the second agent to the first ping answered through the tunnel.

One hub and agent A stay up for the whole topology; agent B is started `runs` times. Before each start an ICMP probe
(`icmp_probe.py`, one echo every 10 ms) is already running in A's namespace towards B's overlay address. The time is
taken just before B's process is spawned and ends at the probe's first echo reply (same CLOCK_MONOTONIC). B is then
stopped with `riftgate down`, and the next run starts only once A has removed B's WireGuard peer, so every run is a
cold connect.

B joins with a fresh key in every run (`riftgate init --force` rewrites its configuration): the hub lets one key join
10 times in a burst, then 6 a minute (`JoinRateLimiter`), so a single key would be refused from about the 11th run on.
A new key gets the overlay address after the highest the network handed out (the hub's allocation), i.e. B's previous
one plus one, so the probe can aim at it before B starts; each run checks that B got that address.
"""
from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import time

from bench_mesh import BenchMesh
from deployment import NETWORK
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


def renew_key(mesh: BenchMesh, previous_ip: str) -> str:
    """Gives B a fresh key (a new configuration, same directory) and returns the overlay address it will get."""
    mesh.b.init(mesh.deployment.hub.url, NETWORK, mesh.deployment.token)
    return str(ipaddress.IPv4Address(previous_ip) + 1)


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
                ip_b = renew_key(mesh, ip_b)
                elapsed = one_connect(mesh, ip_b, timeout)
                status_b = mesh.b.status()
                key_b, given = status_b["public_key"], status_b.get("ipv4")
                if elapsed is not None and given != ip_b:
                    raise RuntimeError(f"B's new key got {given}, not the expected next address {ip_b}: the hub's "
                                       "address allocation changed, so the probe aimed at the wrong address")
                # A key that never joined was given no address: the next key gets the one expected here.
                ip_b = given or str(ipaddress.IPv4Address(ip_b) - 1)
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
