"""Where an agent's memory per added peer goes: live heap by allocation site, from heaptrack, at 5 and at 10 peers.

The LAN mesh of `memory_bench.py`, with two extra agents run under heaptrack (valgrind's massif cannot run the agent:
it dies on libdispatch's signal thread). Stage 1: a full mesh of `first` agents, one of them profiled; once complete
and idle, the profiled agent is SIGKILLed, so heaptrack's "leaked" figure is its live heap with `first - 1` peers.
Stage 2: the other agents of the first stage stay, the rest start, with a second profiled agent: a full mesh of
`agents` with `agents - 1` peers each, then that agent is killed the same way. `heaptrack_print --diff` of the two
recordings gives the live heap each added peer costs, by allocation stack. /proc/PID/smaps of one agent that is not
profiled is sampled at both stages too, so the heap figure can be set against resident memory (allocator overhead and
retention, thread stacks, other mappings).

A measuring tool, not part of `make bench`:

    sudo flock /tmp/riftgate-cpu.lock .venv/bin/python Tests/bench/memory_sites.py \\
        --bin-dir .build-bench-release/release --keep /tmp/riftgate-sites   # report.txt and both recordings
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "Tests", "lab"))
sys.path.insert(0, HERE)

from deployment import Deployment  # noqa: E402
from lab import Lab, wait_for  # noqa: E402
from memory_bench import lan_mesh, mapping_breakdown, status_kib, wait_full_mesh  # noqa: E402
from riftgate_lab import binary  # noqa: E402


def log(text: str) -> None:
    print(f"[sites] {text}", file=sys.stderr, flush=True)


def anonymous_kib(pid: int) -> dict:
    return {row["mapping"]: row["rss_kib"] for row in mapping_breakdown(pid) if row["mapping"].startswith("[")}


def profiled_agent_pid(config: str) -> int:
    """The agent process heaptrack started (not the heaptrack script, nor `ip netns exec`)."""
    found = subprocess.run(["pgrep", "-f", f"^{binary('riftgate')} up .*{config}"], capture_output=True, text=True)
    pids = [int(pid) for pid in found.stdout.split()]
    if len(pids) != 1:
        raise RuntimeError(f"expected one profiled agent process, found {pids}")
    return pids[0]


def start_profiled(deployment: Deployment, role: str, workdir: str) -> str:
    """Starts `role`'s agent under heaptrack; returns the recording's path prefix."""
    agent = deployment.agents[role]
    output = os.path.join(workdir, f"heaptrack-{role}")
    agent.process = agent.host.spawn("heaptrack", "-o", output, binary("riftgate"), "up", "--verbose", "--config",
                                     agent.config, log=os.path.join(workdir, f"agent-{role}.log"))
    wait_for(agent.answers, timeout=60, what=f"agent {role} under heaptrack")
    return output


def stop_profiled(deployment: Deployment, role: str, output: str) -> str:
    """SIGKILLs the profiled agent (nothing freed: heaptrack's "leaked" is its live heap) and waits for the file."""
    agent = deployment.agents[role]
    os.kill(profiled_agent_pid(agent.config), signal.SIGKILL)
    agent.process.wait(timeout=120)
    paths = [os.path.join(os.path.dirname(output), name) for name in os.listdir(os.path.dirname(output))
             if name.startswith(os.path.basename(output) + ".")]
    if not paths:
        raise RuntimeError(f"heaptrack wrote nothing for {role}")
    return paths[0]


def print_heaptrack(*args: str) -> str:
    return subprocess.run(["heaptrack_print", *args], capture_output=True, text=True, timeout=600).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description="Agent heap per added peer, by allocation site (needs root)")
    parser.add_argument("--bin-dir", default=".build-bench-release/release")
    parser.add_argument("--agents", type=int, default=11, help="agents in the full mesh")
    parser.add_argument("--first", type=int, default=6, help="agents in the first stage")
    parser.add_argument("--settle", type=float, default=15)
    parser.add_argument("--keep", default="/tmp/riftgate-sites", help="directory for the recordings and the report")
    options = parser.parse_args()
    root = os.path.dirname(os.path.dirname(HERE))
    os.environ["RIFTGATE_BIN_DIR"] = options.bin_dir if os.path.isabs(options.bin_dir) else os.path.join(root, options.bin_dir)
    # Roles: the first stage's profiled agent is killed after it, so the full mesh needs one role more.
    roles = [f"n{index:02d}" for index in range(options.agents + 1)]
    first_profiled, plain, full_profiled = roles[0], roles[1], roles[options.first]
    os.makedirs(options.keep, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="riftgate-sites-")
    lab = Lab()
    deployment = None
    try:
        deployment = lan_mesh(lab, roles, workdir)
        recording = start_profiled(deployment, first_profiled, workdir)
        for role in roles[1:options.first]:
            deployment.agents[role].start()
        wait_full_mesh(deployment, roles[:options.first], timeout=180)
        time.sleep(options.settle)
        plain_pid = deployment.agents[plain].process.pid
        small = {"anon": anonymous_kib(plain_pid), "rss": status_kib(plain_pid, "VmRSS"),
                 "threads": status_kib(plain_pid, "Threads")}
        small["file"] = stop_profiled(deployment, first_profiled, recording)
        log(f"stage 1 recorded: {small['file']}")
        full_roles = roles[1:]
        recording = start_profiled(deployment, full_profiled, workdir)
        for role in full_roles:
            if role != full_profiled and deployment.agents[role].process is None:
                deployment.agents[role].start()
        wait_full_mesh(deployment, full_roles, timeout=300)
        time.sleep(options.settle)
        full = {"anon": anonymous_kib(plain_pid), "rss": status_kib(plain_pid, "VmRSS"),
                "threads": status_kib(plain_pid, "Threads")}
        full["file"] = stop_profiled(deployment, full_profiled, recording)
        log(f"stage 2 recorded: {full['file']}")
        added = options.agents - options.first
        report = [f"plain agent {plain}: RSS {small['rss']} -> {full['rss']} KiB "
                  f"({(full['rss'] - small['rss']) / added:+.1f} KiB per added peer), threads {small['threads']} -> "
                  f"{full['threads']}"]
        for name in sorted(set(small["anon"]) | set(full["anon"])):
            before, after = small["anon"].get(name, 0), full["anon"].get(name, 0)
            report.append(f"  {name}: {before} -> {after} KiB ({(after - before) / added:+.1f} KiB per peer)")
        for stage, data in (("stage 1", small), ("stage 2", full)):
            summary = print_heaptrack("--print-leaks", "0", "--print-peaks", "0", "--print-allocators", "0",
                                      "--print-temporary", "0", data["file"])
            report.append(f"\n{stage} ({data['file']}):\n" + "\n".join(summary.strip().splitlines()[-8:]))
        diff = print_heaptrack("--diff", small["file"], "--print-leaks", "1", "--print-peaks", "0",
                               "--print-allocators", "0", "--print-temporary", "0", full["file"])
        report.append(f"\nlive heap, {options.agents - 1} peers minus {options.first - 1} peers "
                      f"(divide by {added} for one peer):\n{diff}")
        text = "\n".join(report)
        with open(os.path.join(options.keep, "report.txt"), "w") as handle:
            handle.write(text + "\n")
        for data in (small, full):
            subprocess.run(["cp", data["file"], options.keep], check=False)
        print(text[:6000])
        return 0
    finally:
        for agent in deployment.agents.values() if deployment is not None else []:
            try:
                if agent.process is not None and agent.process.poll() is None:
                    agent.down(timeout=30)
            except Exception:  # noqa: BLE001 - the lab kills what is left
                pass
        lab.close()


if __name__ == "__main__":
    sys.exit(main())
