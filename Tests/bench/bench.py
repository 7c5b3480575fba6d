"""riftgate benchmarks: `make bench`, or directly

    .venv/bin/python Tests/bench/bench.py --bin-dir .build-bench-release/release --test-bin-dir .build-bench/release

Writes bench-results/<UTC time>/results.json (everything, machine-readable) and results.md (a readable table), and
copies both to bench-results/latest.{json,md}. Never asserts a figure: every number is reported next to its baseline
measured in the same run, and a failed section is recorded as an error while the others still run.

Sections (`--only` takes a comma-separated subset): tunnel, connect, hub, reconnect, datapath, roaming, memory,
failover, cluster. The tunnel, connect, roaming, memory and failover sections need root (network namespaces); the
datapath section needs valgrind; the cluster section needs PostgreSQL and nats-server (cluster_bench.py).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Tests", "lab"))
sys.path.insert(0, HERE)

from procstats import machine  # noqa: E402
from report import markdown_report  # noqa: E402

SECTIONS = ("tunnel", "connect", "hub", "reconnect", "datapath", "roaming", "memory", "failover", "cluster")


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def absolute(path: str) -> str:
    return path if os.path.isabs(path) else os.path.join(ROOT, path)


def main() -> int:
    parser = argparse.ArgumentParser(description="riftgate benchmarks (figures are reported, never asserted)")
    parser.add_argument("--bin-dir", default=".build-bench-release/release", help="release riftgate and riftgate-hub")
    parser.add_argument("--test-bin-dir", default=".build-bench/release",
                        help="release test bundle with testable imports (for the data-path harness)")
    parser.add_argument("--static-bin-dir", default=".build-bench-static/release",
                        help="riftgate built as the Debian package is (--static-swift-stdlib, release), for the memory "
                             "section; skipped when missing")
    parser.add_argument("--out", default="bench-results", help="results directory (a subdirectory per run)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections: {', '.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and smaller N: checks the benchmark itself")
    parser.add_argument("--topologies", default="lan,home-nats,hard-nats", help="lab topologies for tunnel and connect")
    parser.add_argument("--coturn-socket-buffer", type=int, default=2 * 1024 * 1024,
                        help="the lab's coturn gets UDP socket buffers of at least this size, as deploy/provision-hub.sh "
                             "--turn sets it up (deploy/coturn/socket-buffers.c for coturn 4.6.1); 0: coturn as Debian "
                             "ships it (64 KiB relay ports)")
    parser.add_argument("--connect-runs", type=int, default=20, help="cold connects per topology")
    parser.add_argument("--hub-counts", default="1000,10000", help="agents held by the load generator, per run")
    parser.add_argument("--hub-rates", default="1000,2000,5000,10000,20000", help="offered relay rates (msg/s)")
    parser.add_argument("--hub-loadgen-processes", type=int, default=1,
                        help="load-generator processes holding the hub section's agents (loadgen_shards.py)")
    parser.add_argument("--hub-tls", action="store_true", help="the hub section's hub serves wss:// (self-signed)")
    parser.add_argument("--reconnect-agents", type=int, default=10_000, help="agents in the reconnect storm")
    parser.add_argument("--outage-seconds", type=float, default=30, help="how long the hub stays down (reconnect)")
    parser.add_argument("--reconnect-policies", default="new,old",
                        help="reconnect policies simulated: new (4 s step cap), old (30 s cap), one storm each")
    parser.add_argument("--cluster-agents", type=int, default=50_000, help="agents held by the 3-hub cluster")
    parser.add_argument("--cluster-relay-agents", type=int, default=2000, help="agents of the same/cross-hub relay run")
    parser.add_argument("--cluster-rates", default="1000,5000", help="offered relay rates, same and cross hub (msg/s)")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the extra perf-sampled passes (hub at the largest N, reconnect storms, each tunnel "
                             "under iperf3)")
    options = parser.parse_args()

    sections = [name.strip() for name in options.only.split(",") if name.strip()]
    unknown = [name for name in sections if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; known: {', '.join(SECTIONS)}")
    bin_dir, test_bin_dir = absolute(options.bin_dir), absolute(options.test_bin_dir)
    os.environ["RIFTGATE_BIN_DIR"] = bin_dir  # riftgate_lab finds the binaries here
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out_root = absolute(options.out)
    out_dir = os.path.join(out_root, stamp)
    os.makedirs(out_dir, exist_ok=True)
    topologies = [name.strip() for name in options.topologies.split(",") if name.strip()]

    results = {"started_utc": stamp, "machine": machine(), "source": source_revision(), "binaries": bin_dir,
               "quick": options.quick, "sections": {}}
    runners = {
        "tunnel": lambda: run_section_tunnel(topologies, options, os.path.join(out_dir, "work")),
        "connect": lambda: run_section_connect(topologies, options, os.path.join(out_dir, "work")),
        "hub": lambda: run_section_hub(bin_dir, out_dir, out_root, options),
        "reconnect": lambda: run_section_reconnect(bin_dir, out_dir, out_root, options),
        "datapath": lambda: run_section_datapath(test_bin_dir, out_dir, options),
        "roaming": lambda: run_section_roaming(options),
        "memory": lambda: run_section_memory(options, os.path.join(out_dir, "work")),
        "failover": lambda: run_section_failover(options),
        "cluster": lambda: run_section_cluster(bin_dir, out_dir, options),
    }
    for name in sections:
        log(f"=== {name} ===")
        started = time.monotonic()
        try:
            results["sections"][name] = runners[name]()
        except Exception as error:  # keep the other sections' figures
            traceback.print_exc()
            results["sections"][name] = {"error": f"{type(error).__name__}: {error}"}
        results["sections"][name]["duration_s"] = round(time.monotonic() - started, 1)
        write(results, out_dir, out_root)
    log(f"results: {os.path.join(out_dir, 'results.md')} (and latest.md / latest.json in {out_root})")
    print(markdown_report(results))
    return 0


def run_section_roaming(options) -> dict:
    from lab import can_build_labs
    reason = can_build_labs()
    if reason:
        return {"skipped": reason}
    from roaming_bench import run_roaming
    return run_roaming(runs=1 if options.quick else 3, suspend_seconds=10 if options.quick else 60)


def run_section_memory(options, work_root) -> dict:
    from lab import can_build_labs
    reason = can_build_labs()
    if reason:
        return {"skipped": reason}
    from memory_bench import run_memory
    return run_memory(work_root, agents=6 if options.quick else 11, first=3 if options.quick else 4,
                      middle=4 if options.quick else 6,
                      settle=3 if options.quick else 15, samples=2 if options.quick else 5,
                      static_agent_dir=absolute(options.static_bin_dir))


def run_section_failover(options) -> dict:
    from lab import can_build_labs
    reason = can_build_labs()
    if reason:
        return {"skipped": reason}
    from failover_bench import run_failover
    return run_failover(runs=1 if options.quick else 3)


def run_section_tunnel(topologies, options, work_root) -> dict:
    from lab import can_build_labs
    reason = can_build_labs()
    if reason:
        return {"skipped": reason}
    from tunnel_bench import run_tunnel
    rounds, seconds = (1, 2) if options.quick else (5, 5)
    return run_tunnel(work_root, topologies, rounds=rounds, seconds=seconds, profile=not options.no_profile,
                      coturn_socket_buffer=options.coturn_socket_buffer)


def run_section_connect(topologies, options, work_root) -> dict:
    from lab import can_build_labs
    reason = can_build_labs()
    if reason:
        return {"skipped": reason}
    from connect_bench import run_connect
    return run_connect(work_root, topologies, runs=3 if options.quick else options.connect_runs)


def run_section_hub(bin_dir, out_dir, out_root, options) -> dict:
    from hub_bench import run_hub_capacity
    counts = [200] if options.quick else [int(count) for count in options.hub_counts.split(",")]
    rates = [float(rate) for rate in options.hub_rates.split(",")]
    if options.quick:
        rates = rates[:2]
    return run_hub_capacity(bin_dir, out_dir, os.path.join(out_root, "cache"), counts=counts, rates=rates,
                            step_seconds=2 if options.quick else 5, idle_seconds=2 if options.quick else 20,
                            profile=not options.no_profile and not options.quick,
                            loadgen_processes=options.hub_loadgen_processes, tls=options.hub_tls)


def run_section_reconnect(bin_dir, out_dir, out_root, options) -> dict:
    from reconnect_bench import run_reconnect
    agents, outage = (200, 5) if options.quick else (options.reconnect_agents, options.outage_seconds)
    policies = [name.strip() for name in options.reconnect_policies.split(",") if name.strip()]
    return run_reconnect(bin_dir, out_dir, os.path.join(out_root, "cache"), agents=agents, outage_s=outage,
                         policies=policies, profile=not options.no_profile and not options.quick)


def run_section_cluster(bin_dir, out_dir, options) -> dict:
    from cluster_bench import run_cluster
    rates = [float(rate) for rate in options.cluster_rates.split(",")]
    if options.quick:
        return run_cluster(bin_dir, out_dir, relay_agents=400, rates=rates[:1], step_seconds=2, rounds=1,
                           capacity_agents=3000, loadgen_processes=2, idle_seconds=5, probe_seconds=0)
    return run_cluster(bin_dir, out_dir, relay_agents=options.cluster_relay_agents, rates=rates,
                       capacity_agents=options.cluster_agents)


def run_section_datapath(test_bin_dir, out_dir, options) -> dict:
    if shutil.which("valgrind") is None:
        return {"skipped": "valgrind is not installed (apt-get install valgrind)"}
    from datapath_bench import run_datapath
    return run_datapath(test_bin_dir, out_dir, quick=options.quick)


def source_revision() -> str:
    """The commit measured, marked dirty when the working tree differs from it."""
    try:
        return subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True, text=True,
                              timeout=10).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def write(results: dict, out_dir: str, out_root: str) -> None:
    text = json.dumps(results, indent=2)
    table = markdown_report(results)
    for directory, json_name, md_name in ((out_dir, "results.json", "results.md"), (out_root, "latest.json", "latest.md")):
        with open(os.path.join(directory, json_name), "w") as handle:
            handle.write(text + "\n")
        with open(os.path.join(directory, md_name), "w") as handle:
            handle.write(table)


if __name__ == "__main__":
    sys.exit(main())
