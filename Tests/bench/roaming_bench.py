"""Roaming recovery (issue 19), for `make bench BENCH_ARGS="--only roaming"`: runs the roaming scenarios of
Tests/e2e/test_roaming.py (address replaced, link down 10 s, stopped 60 s, moved between NATs, a flapping link) a few
times with the bench's release binaries and records, per scenario, how long the hub session and the tunnel took to
come back after the new network was usable. Figures only: the e2e tests keep their own (looser) bounds.
"""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LINE = re.compile(r"^(test_\w+): (.+?): hub session back after ([\d.]+) s .*tunnel after ([\d.]+) s")
FLAP = re.compile(r"^test_flapping\w*: flapping 30 s: (\d+) immediate hub reconnects .*?, (\d+) connection attempts")


def run_roaming(runs: int, suspend_seconds: int) -> dict:
    """Runs the scenarios `runs` times; returns per-scenario lists of seconds and their medians."""
    scenarios: dict[str, dict] = {}
    flapping: list[dict] = []
    failures: list[str] = []
    for index in range(runs):
        env = {**os.environ, "RIFTGATE_SUSPEND_SECONDS": str(suspend_seconds)}
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                                 os.path.join(ROOT, "Tests", "e2e", "test_roaming.py")],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            failures.append(f"run {index + 1}: " + result.stdout[-1500:])
        for line in result.stdout.splitlines():
            if match := LINE.match(line):
                entry = scenarios.setdefault(match.group(2), {"hub_s": [], "tunnel_s": []})
                entry["hub_s"].append(float(match.group(3)))
                entry["tunnel_s"].append(float(match.group(4)))
            elif match := FLAP.match(line):
                flapping.append({"immediate_reconnects": int(match.group(1)), "connection_attempts": int(match.group(2))})
    for entry in scenarios.values():
        entry["hub_median_s"] = round(statistics.median(entry["hub_s"]), 2)
        entry["tunnel_median_s"] = round(statistics.median(entry["tunnel_s"]), 2)
    return {"runs": runs, "suspend_seconds": suspend_seconds, "targets": {"hub_s": 1.0, "tunnel_s": 2.0},
            "scenarios": scenarios, "flapping": flapping, "failures": failures}
