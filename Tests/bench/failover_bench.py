"""Failover (issue 12 item 3), for `make bench BENCH_ARGS="--only failover"`: runs the cut-path scenario of
Tests/e2e/test_faults.py (home NATs with coturn; every packet between the two routers dropped, later let through again)
a few times with the bench's binaries and records the outage after the cut (longest gap between ping replies sent every
0.2 s), the time until the relay carries pings, and the pings lost on the way back to the server-reflexive path.
Figures only: the e2e test asserts nothing about them beyond a bound only a hang would exceed.
"""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# The test runs twice: pings started just before the cut (the quiet suspicion deadline applies) and 1.5 s before it
# (traffic flowing: the busy one); the outage is kept per variant.
OUTAGE = re.compile(r"^test_cut\w*\[([\w-]+)\]: failover outage .*?after the cut: ([\d.]+) s")
TO_RELAY = re.compile(r"^test_cut\w*(?:\[[\w-]+\])?: direct path cut -> relayed path carrying pings in ([\d.]+) s")
BACK = re.compile(r"^test_cut\w*(?:\[[\w-]+\])?: ping a->b while moving back off the relay .*?: (\d+)/(\d+) replies, (\d+) lost")


def run_failover(runs: int) -> dict:
    """Runs the scenario `runs` times; returns the figures of each run and their medians."""
    outage: list[float] = []
    under_traffic: list[float] = []
    to_relay: list[float] = []
    lost_back: list[int] = []
    failures: list[str] = []
    for index in range(runs):
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                                 os.path.join(ROOT, "Tests", "e2e", "test_faults.py"), "-k", "cut_direct_path"],
                                cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            failures.append(f"run {index + 1}: " + result.stdout[-1500:])
        for line in set(result.stdout.splitlines()):  # pytest may print the timing lines twice
            if match := OUTAGE.match(line):
                (under_traffic if match.group(1) == "cut-under-pings" else outage).append(float(match.group(2)))
            elif match := TO_RELAY.match(line):
                to_relay.append(float(match.group(1)))
            elif match := BACK.match(line):
                lost_back.append(int(match.group(3)))
    median = lambda values: round(statistics.median(values), 2) if values else None  # noqa: E731
    return {"runs": runs, "targets": {"outage_s": 2.0, "lost_back": 0},
            "baseline_before_s": "7.8-8.4 (issue 12); 2.7-2.9 (dead after 2 s, before the relay was prepared on suspicion)",
            "outage_s": outage, "outage_median_s": median(outage),
            "outage_under_traffic_s": under_traffic, "outage_under_traffic_median_s": median(under_traffic),
            "to_relay_s": to_relay,
            "to_relay_median_s": median(to_relay), "lost_back": lost_back, "failures": failures}
