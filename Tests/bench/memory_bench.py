"""Agent memory: resident memory of each agent in a full mesh, with its wireguard-go child reported separately.

A LAN of `agents` hosts (one bridge, `Tests/lab/topologies.lan_topology`; every pair connects directly) with the hub
and one agent per host. The mesh grows in two stages: `first` agents (each with `first - 1` peers), then all of them
(each with `agents - 1` peers); at each stage every agent must list every other one as connected, then the mesh idles
`settle` seconds and each agent's process is sampled from /proc: VmRSS, Pss and the private/shared split
(smaps_rollup), threads, and its wireguard-go child's VmRSS. Per added peer = (median RSS at the full mesh − median at
the first stage) / (peers added). One agent's /proc/PID/smaps is also grouped by mapping (the binary, each shared
library, heap arenas, thread stacks, anonymous) to show where the memory is.
"""
from __future__ import annotations

import os
import re
import sys
import time

from procstats import median

from deployment import Deployment
from lab import Lab, wait_for
from topologies import lan_topology


def log(text: str) -> None:
    print(f"[memory] {text}", file=sys.stderr, flush=True)


def process_of(agent) -> int:
    """The agent's own pid (`ip netns exec` execs the program, so the spawned pid is the agent's)."""
    return agent.process.pid


def children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            found += [int(child) for child in open(f"/proc/{pid}/task/{task}/children").read().split()]
        except OSError:
            pass
    return found


def status_kib(pid: int, field: str) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def rollup(pid: int) -> dict:
    values = {}
    for line in open(f"/proc/{pid}/smaps_rollup"):
        match = re.match(r"(\w+):\s+(\d+) kB", line)
        if match:
            values[match.group(1)] = int(match.group(2))
    return values


def sample(pid: int) -> dict:
    roll = rollup(pid)
    wireguard = [child for child in children(pid) if "wireguard" in open(f"/proc/{child}/comm").read()]
    return {
        "rss_kib": status_kib(pid, "VmRSS"), "pss_kib": roll.get("Pss", 0),
        "private_kib": roll.get("Private_Clean", 0) + roll.get("Private_Dirty", 0),
        "shared_kib": roll.get("Shared_Clean", 0) + roll.get("Shared_Dirty", 0),
        "anonymous_kib": roll.get("Anonymous", 0), "threads": status_kib(pid, "Threads"),
        "wireguard_go_rss_kib": sum(status_kib(child, "VmRSS") for child in wireguard),
    }


def mapping_breakdown(pid: int) -> list[dict]:
    """Rss by mapping group: each file by name, `[heap]`, `[stack]`, anonymous mappings grouped by size."""
    groups: dict[str, dict] = {}
    current = None
    for line in open(f"/proc/{pid}/smaps"):
        header = re.match(r"^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$", line)
        if header:
            name = header.group(2).strip()
            start, end = (int(part, 16) for part in line.split()[0].split("-"))
            if not name:
                size = end - start
                # glibc's thread arenas reserve 64 MiB (HEAP_MAX); thread stacks are 8 MiB + a guard page.
                name = "[anon: malloc arena 64 MiB]" if size >= 60 << 20 else \
                       "[anon: 8 MiB (thread stack)]" if (8 << 20) <= size <= (8 << 20) + 8192 else "[anon: other]"
            else:
                name = os.path.basename(name) if name.startswith("/") else name
            current = groups.setdefault(name, {"mapping": name, "rss_kib": 0, "private_kib": 0, "count": 0})
            current["count"] += 1
            continue
        field = re.match(r"(Rss|Private_Clean|Private_Dirty):\s+(\d+) kB", line)
        if field and current is not None:
            if field.group(1) == "Rss":
                current["rss_kib"] += int(field.group(2))
            else:
                current["private_kib"] += int(field.group(2))
    return sorted((group for group in groups.values() if group["rss_kib"] > 0), key=lambda group: -group["rss_kib"])


def wait_full_mesh(deployment: Deployment, roles: list[str], timeout: float) -> None:
    keys = {role: deployment.agents[role].status()["public_key"] for role in roles}

    def connected() -> bool:
        for role in roles:
            peers = {peer["public_key"]: peer for peer in deployment.agents[role].status()["peers"]}
            for other in roles:
                if other != role and peers.get(keys[other], {}).get("state") != "connected":
                    return False
        return True
    wait_for(connected, timeout=timeout, interval=1, what=f"a full mesh of {len(roles)} agents")


def measure_stage(deployment: Deployment, roles: list[str], settle: float) -> dict:
    wait_full_mesh(deployment, roles, timeout=120)
    time.sleep(settle)
    samples = {role: sample(process_of(deployment.agents[role])) for role in roles}
    rss = [value["rss_kib"] for value in samples.values()]
    summary = {
        "agents": len(roles), "peers_each": len(roles) - 1, "samples": samples,
        "median_rss_kib": median(rss), "max_rss_kib": max(rss),
        "median_pss_kib": median([value["pss_kib"] for value in samples.values()]),
        "median_private_kib": median([value["private_kib"] for value in samples.values()]),
        "median_wireguard_go_rss_kib": median([value["wireguard_go_rss_kib"] for value in samples.values()]),
        "median_threads": median([value["threads"] for value in samples.values()]),
    }
    log(f"{len(roles)} agents ({len(roles) - 1} peers each): RSS median {summary['median_rss_kib'] / 1024:.1f} MiB "
        f"(max {summary['max_rss_kib'] / 1024:.1f}), private {summary['median_private_kib'] / 1024:.1f} MiB, "
        f"wireguard-go {summary['median_wireguard_go_rss_kib'] / 1024:.1f} MiB")
    return summary


def run_memory(work_root: str, agents: int = 11, first: int = 6, settle: float = 15) -> dict:
    roles = [f"n{index:02d}" for index in range(agents)]
    workdir = os.path.join(work_root, "memory")
    os.makedirs(workdir, exist_ok=True)
    lab = Lab()
    deployment = None
    try:
        deployment = Deployment(lan_topology(lab, peers=tuple(roles)), workdir, turn=False)
        deployment.start_hub()
        for role in roles:
            deployment.agent(role)
        for role in roles[:first]:
            deployment.agents[role].start()
        small = measure_stage(deployment, roles[:first], settle)
        for role in roles[first:]:
            deployment.agents[role].start()
        full = measure_stage(deployment, roles, settle)
        breakdown = mapping_breakdown(process_of(deployment.agents[roles[0]]))
        per_peer = (full["median_rss_kib"] - small["median_rss_kib"]) / (full["peers_each"] - small["peers_each"])
        log(f"per added peer: {per_peer:.0f} KiB")
        return {"topology": "lan (one bridge, direct paths)", "stages": [small, full],
                "per_added_peer_kib": round(per_peer, 1),
                "breakdown_first_agent": breakdown[:25],
                "targets": {"rss_10_peers_kib": 20 * 1024, "per_added_peer_kib": 64}}
    finally:
        for agent in deployment.agents.values() if deployment is not None else []:
            try:
                agent.down(timeout=10)
            except Exception:  # noqa: BLE001 - the lab kills what is left
                pass
        lab.close()
