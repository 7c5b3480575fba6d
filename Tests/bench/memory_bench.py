"""Agent memory: resident memory of each agent in a full mesh, with its wireguard-go child reported separately.

A LAN of `agents` hosts (one bridge, `Tests/lab/topologies.lan_topology`; every pair connects directly) with the hub
and one agent per host. The mesh grows in three stages: `first` agents, then `middle`, then all of them (each agent
with every other as a peer); at each stage every agent must list every other one as connected, then the mesh idles
`settle` seconds and each agent's process is sampled `samples` times, `interval` seconds apart, from /proc: VmRSS, Pss
and the private/shared split (smaps_rollup), threads, and its wireguard-go child's VmRSS; an agent's figure is the
median of its samples.

Ten seconds after it starts, an agent gives back the file pages it touched to start (`StartupPageRelease`): from then
on its code and constant data are resident only as far as it touches them again. So an agent's RSS grows once more the
first time peers join after that release (their code comes back: not a per-peer cost), and the figures are those of
the agents that have lived through it: the *seasoned* ones, up since the first stage, whose peers joined both before
and after their release. Per added peer is paired: for each seasoned agent, (its RSS at the full mesh − its RSS at the
middle stage) / (peers added), then the median over them (the same process measured twice, so the spread between
agents' libraries and heaps cancels out, and both samples hold the code a join runs). The RSS with 10 peers is the
median of the seasoned agents; the median and maximum of all agents are recorded too (agents started in the last
stage have not run a join since their release and sit ~3 MiB lower). One agent's /proc/PID/smaps is also grouped by mapping
(the binary, each shared library, heap arenas, thread stacks, anonymous) to show where the memory is.

The whole run is repeated for each agent build given: the release build `make bench` runs everywhere (the Swift
runtime and Foundation as shared libraries from /opt/swift), and the agent as the Debian package ships it
(`--static-swift-stdlib`, release; `make bench` builds it in .build-bench-static), against the same hub.

    sudo flock /tmp/riftgate-cpu.lock .venv/bin/python Tests/bench/memory_bench.py \\
        --bin-dir .build-bench-release/release --static-agent-dir .build-bench-static/release
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
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "Tests", "lab"))
sys.path.insert(0, HERE)

from procstats import median  # noqa: E402

from deployment import Deployment  # noqa: E402
from lab import Lab, wait_for  # noqa: E402
from topologies import lan_topology  # noqa: E402

# Mappings whose presence says Foundation (and the ICU it carries) is in the process.
FOUNDATION_LIBRARIES = re.compile(r"^(libFoundation\.so|libFoundationInternationalization\.so|lib_FoundationICU\.so)$")


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


def median_sample(samples: list[dict]) -> dict:
    """Field by field median of one process's samples."""
    return {field: median([one[field] for one in samples]) for field in samples[0]}


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


def lan_mesh(lab: Lab, roles: list[str], workdir: str) -> Deployment:
    """One LAN with an agent declared (not started) for each role and the hub running, without TURN; `lab.close()`
    ends whatever is left of it."""
    deployment = Deployment(lan_topology(lab, peers=tuple(roles)), workdir, turn=False)
    deployment.start_hub()
    for role in roles:
        deployment.agent(role)
    return deployment


def measure_stage(deployment: Deployment, roles: list[str], settle: float, samples: int, interval: float,
                  seasoned: list[str]) -> dict:
    wait_full_mesh(deployment, roles, timeout=120)
    time.sleep(settle)
    taken: dict[str, list[dict]] = {role: [] for role in roles}
    for index in range(samples):
        if index:
            time.sleep(interval)
        for role in roles:
            taken[role].append(sample(process_of(deployment.agents[role])))
    per_agent = {role: median_sample(values) for role, values in taken.items()}
    rss = [value["rss_kib"] for value in per_agent.values()]
    summary = {
        "agents": len(roles), "peers_each": len(roles) - 1, "samples_per_agent": samples, "samples": per_agent,
        "median_rss_kib": median([per_agent[role]["rss_kib"] for role in seasoned]), "seasoned_agents": len(seasoned),
        "median_rss_all_kib": median(rss), "max_rss_kib": max(rss),
        "median_pss_kib": median([value["pss_kib"] for value in per_agent.values()]),
        "median_private_kib": median([value["private_kib"] for value in per_agent.values()]),
        "median_anonymous_kib": median([value["anonymous_kib"] for value in per_agent.values()]),
        "median_wireguard_go_rss_kib": median([value["wireguard_go_rss_kib"] for value in per_agent.values()]),
        "median_threads": median([value["threads"] for value in per_agent.values()]),
    }
    log(f"{len(roles)} agents ({len(roles) - 1} peers each): RSS median {summary['median_rss_kib'] / 1024:.1f} MiB "
        f"({len(seasoned)} seasoned; all {summary['median_rss_all_kib'] / 1024:.1f}, max {summary['max_rss_kib'] / 1024:.1f}), Pss {summary['median_pss_kib'] / 1024:.1f}, private "
        f"{summary['median_private_kib'] / 1024:.1f} MiB, wireguard-go {summary['median_wireguard_go_rss_kib'] / 1024:.1f} MiB")
    return summary


def per_added_peer(small: dict, full: dict, seasoned: list[str]) -> dict:
    """Paired growth: each seasoned agent at the middle stage against itself at the full mesh, in KiB per added peer."""
    added = full["peers_each"] - small["peers_each"]
    growth = {field: sorted((full["samples"][role][field] - small["samples"][role][field]) / added
                            for role in seasoned) for field in ("rss_kib", "private_kib", "anonymous_kib")}
    return {"rss_kib": round(median(growth["rss_kib"]), 1),
            "rss_range_kib": [round(growth["rss_kib"][0], 1), round(growth["rss_kib"][-1], 1)],
            "private_kib": round(median(growth["private_kib"]), 1),
            "anonymous_kib": round(median(growth["anonymous_kib"]), 1), "agents_paired": len(seasoned)}


def measure_build(agent_bin_dir: str | None, work_root: str, agents: int, first: int, middle: int, settle: float,
                  samples: int, interval: float) -> dict:
    """One full run (both stages) with the agent from `agent_bin_dir` (None: the hub's bin dir)."""
    roles = [f"n{index:02d}" for index in range(agents)]
    workdir = tempfile.mkdtemp(prefix="memory-", dir=work_root)
    previous = os.environ.get("RIFTGATE_AGENT_BIN_DIR")
    if agent_bin_dir:
        os.environ["RIFTGATE_AGENT_BIN_DIR"] = agent_bin_dir
    lab = Lab()
    deployment = None
    try:
        deployment = lan_mesh(lab, roles, workdir)
        seasoned = roles[:first]
        stages = []
        for size in (first, middle, agents):
            for role in roles[len(stages[-1]["samples"]) if stages else 0:size]:
                deployment.agents[role].start()
            stages.append(measure_stage(deployment, roles[:size], settle, samples, interval, seasoned))
        breakdown = mapping_breakdown(process_of(deployment.agents[roles[0]]))
        growth = per_added_peer(stages[-2], stages[-1], seasoned)
        log(f"per added peer: {growth['rss_kib']:.0f} KiB RSS (agents from {growth['rss_range_kib'][0]:.0f} to "
            f"{growth['rss_range_kib'][1]:.0f}), {growth['private_kib']:.0f} KiB private")
        return {"stages": stages, "per_added_peer_kib": growth["rss_kib"], "per_added_peer": growth,
                "libraries_mapped": sum(1 for row in breakdown if ".so" in row["mapping"]),
                "foundation_mapped": [row["mapping"] for row in breakdown if FOUNDATION_LIBRARIES.match(row["mapping"])],
                "breakdown_first_agent": breakdown}
    finally:
        for agent in deployment.agents.values() if deployment is not None else []:
            try:
                agent.down(timeout=10)
            except Exception:  # noqa: BLE001 - the lab kills what is left
                pass
        lab.close()
        if agent_bin_dir:
            if previous is None:
                os.environ.pop("RIFTGATE_AGENT_BIN_DIR", None)
            else:
                os.environ["RIFTGATE_AGENT_BIN_DIR"] = previous


def run_memory(work_root: str, agents: int = 11, first: int = 4, middle: int = 6, settle: float = 15, samples: int = 5,
               interval: float = 2, static_agent_dir: str | None = None) -> dict:
    """Measures the agent of RIFTGATE_BIN_DIR ("dynamic") and, if given, the static agent of `static_agent_dir`."""
    os.makedirs(work_root, exist_ok=True)
    builds = {"dynamic": None}
    if static_agent_dir:
        if os.access(os.path.join(static_agent_dir, "riftgate"), os.X_OK):
            builds["static"] = static_agent_dir
        else:
            log(f"no static agent in {static_agent_dir}: measuring the dynamic build only")
    results = {}
    for name, directory in builds.items():
        log(f"--- {name} agent build ---")
        results[name] = measure_build(directory, work_root, agents, first, middle, settle, samples, interval)
        results[name]["agent_binary"] = os.path.join(directory or os.environ.get("RIFTGATE_BIN_DIR", ""), "riftgate")
    return {"topology": "lan (one bridge, direct paths)", "builds": results,
            "targets": {"rss_10_peers_kib": 20 * 1024, "per_added_peer_kib": 64}}


def main() -> int:
    parser = argparse.ArgumentParser(description="Agent memory in a full mesh (needs root: network namespaces)")
    parser.add_argument("--bin-dir", default=".build-bench-release/release",
                        help="riftgate-hub and the dynamically linked riftgate (release)")
    parser.add_argument("--static-agent-dir", default=None,
                        help="a riftgate built as the package is (--static-swift-stdlib, release), measured too")
    parser.add_argument("--agents", type=int, default=11)
    parser.add_argument("--first", type=int, default=4, help="agents in the first stage (the seasoned ones)")
    parser.add_argument("--middle", type=int, default=6, help="agents in the middle stage")
    parser.add_argument("--settle", type=float, default=15, help="idle seconds before sampling a stage")
    parser.add_argument("--samples", type=int, default=5, help="samples per agent and stage")
    parser.add_argument("--interval", type=float, default=2, help="seconds between samples")
    parser.add_argument("--out", default=None, help="write the figures as JSON to this file")
    options = parser.parse_args()
    root = os.path.dirname(os.path.dirname(HERE))
    absolute = (lambda path: path if os.path.isabs(path) else os.path.join(root, path))
    os.environ["RIFTGATE_BIN_DIR"] = absolute(options.bin_dir)
    from lab import can_build_labs
    reason = can_build_labs()
    if reason:
        log(f"skipped: {reason}")
        return 2
    with tempfile.TemporaryDirectory(prefix="riftgate-memory-") as work_root:
        results = run_memory(work_root, options.agents, options.first, options.middle, options.settle, options.samples,
                             options.interval, absolute(options.static_agent_dir) if options.static_agent_dir else None)
    from report import memory
    print(memory(results))
    if options.out:
        with open(options.out, "w") as handle:
            json.dump(results, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
