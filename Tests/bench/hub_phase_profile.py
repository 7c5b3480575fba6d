"""The hub during one phase of the capacity run: the join storm or one relay step, at N agents in networks of 10.

`hub_bench.py --profile` samples a whole run; this samples one phase, so a storm's or a 20,000 msg/s step's profile is
not diluted by the others. It starts `perf record` (cpu-clock, call graphs) on the hub when the load generator
announces the phase and stops it when the phase is over; it also prints each busy thread's CPU time, run-queue wait
and time slices over the phase (`/proc/<pid>/task/<tid>/schedstat`) for the hub and the load generator. Options:
`--no-perf` (scheduler figures only), `--pin` (hub on CPU 0, load generator on CPU 1), `--no-gc` (the load generator
with Python's cyclic garbage collector off), `--sched` (`perf sched record -a` over the phase instead of sampling).
Run from the repository root, under the CPU lock:

    flock /tmp/riftgate-cpu.lock .venv/bin/python Tests/bench/hub_phase_profile.py --bin-dir BIN --mode relay --rate 20000
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hub_bench  # noqa: E402
from workdirs import work_directory  # noqa: E402


def schedstat(pid: int) -> dict:
    """Per thread of `pid`: (CPU ns, run-queue wait ns, time slices)."""
    stats = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as handle:
                name = handle.read().strip()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as handle:
                run, wait, slices = map(int, handle.read().split())
        except OSError:
            continue
        stats[f"{name}/{tid}"] = (run, wait, slices)
    return stats


def schedstat_delta(before: dict, after: dict) -> dict:
    """The threads that used more than 10 ms of CPU between the two samples, with their waits."""
    rows = {}
    for key, (run, wait, slices) in after.items():
        run0, wait0, slices0 = before.get(key, (0, 0, 0))
        if slices > slices0 and run - run0 > 10_000_000:
            rows[key] = {"cpu_ms": round((run - run0) / 1e6), "runqueue_wait_ms": round((wait - wait0) / 1e6),
                         "timeslices": slices - slices0, "mean_wait_us": round((wait - wait0) / 1e3 / (slices - slices0), 1)}
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-dir", required=True, help="directory holding the release riftgate-hub")
    parser.add_argument("--mode", choices=["storm", "relay"], required=True)
    parser.add_argument("--rate", default="20000", help="offered msg/s of the relay step")
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--out", default="bench-results/phase-profile")
    parser.add_argument("--call-graph", default="fp", help="perf's --call-graph (fp or dwarf)")
    parser.add_argument("--no-perf", action="store_true")
    parser.add_argument("--pin", action="store_true")
    parser.add_argument("--no-gc", action="store_true")
    parser.add_argument("--sched", action="store_true")
    options = parser.parse_args()
    os.makedirs(options.out, exist_ok=True)
    hub_binary = os.path.join(options.bin_dir, "riftgate-hub")
    pristine, tokens = hub_bench.prepare_state(hub_binary, os.path.join("bench-results", "cache"), (options.agents + 9) // 10)
    tag = f"{options.mode}-{os.path.basename(os.path.abspath(options.bin_dir))}"
    with work_directory(os.path.join(options.out, "work"), "hub-phase") as scratch:
        state = os.path.join(scratch, "state")
        shutil.copytree(pristine, state)
        hub = hub_bench.HubProcess(hub_binary, state, os.path.join(options.out, f"hub-{tag}.log"))
        perf_data = os.path.join(options.out, f"{tag}.perf.data")
        launcher = [sys.executable]
        if options.no_gc:
            launcher += ["-c", "import gc, runpy, sys; gc.disable(); sys.argv = sys.argv[1:]; "
                         f"sys.path.insert(0, {HERE!r}); runpy.run_path(sys.argv[0], run_name='__main__')"]
        command = launcher + [os.path.join(HERE, "hub_loadgen.py"), "--url", f"ws://127.0.0.1:{hub.port}", "--tokens", tokens,
                              "--agents", str(options.agents), "--network-size", "10", "--hub-pid", str(hub.pid),
                              "--rates", options.rate, "--step-seconds", "5", "--idle-seconds", "1", "--processes", "1"]
        loadgen = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if options.pin:
            subprocess.run(["taskset", "-a", "-p", "-c", "0", str(hub.pid)], stdout=subprocess.DEVNULL)
            subprocess.run(["taskset", "-a", "-p", "-c", "1", str(loadgen.pid)], stdout=subprocess.DEVNULL)
        # The load generator logs "hub before the storm" just before the storm and "idle:" just before the rate steps.
        start_on = "hub before the storm" if options.mode == "storm" else "idle:"
        stop_on = "join storm:" if options.mode == "storm" else "relay "
        perf, before, sched = None, None, None
        try:
            for line in loadgen.stderr:
                sys.stderr.write(line)
                if before is None and start_on in line:
                    before = (schedstat(hub.pid), schedstat(loadgen.pid))
                    if options.sched:
                        perf = subprocess.Popen(["perf", "sched", "record", "-a", "-o", perf_data + ".sched"],
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    elif not options.no_perf:
                        perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", "-p", str(hub.pid),
                                                 "--call-graph", options.call_graph, "-o", perf_data],
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                elif before is not None and sched is None and stop_on in line:
                    sched = {"hub": schedstat_delta(before[0], schedstat(hub.pid)),
                             "loadgen": schedstat_delta(before[1], schedstat(loadgen.pid))}
                    if perf is not None:
                        perf.send_signal(signal.SIGINT)
                        perf.wait(60)
            output = loadgen.stdout.read()
            loadgen.wait(60)
        finally:
            if perf is not None and perf.poll() is None:
                perf.send_signal(signal.SIGINT)
                perf.wait(60)
            hub.stop()
    result = json.loads(output) if output.strip() else {}
    print(json.dumps({"mode": options.mode, "perf_data": perf_data if perf is not None else None, "scheduler": sched,
                      "join_storm": result.get("join_storm"), "relay": result.get("relay")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
