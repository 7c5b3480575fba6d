"""CPU profiles with `perf record` on the software cpu-clock event (this VM exposes no hardware counters).

Used where a target is missed, to say where the time goes: the hub process (`hub_bench.py`), or the whole machine
while riftgate's tunnel carries iperf3 traffic (`tunnel_bench.py`). Reports the top entries by self time.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess


def available() -> bool:
    return shutil.which("perf") is not None


def start(output: str, pid: int | None = None) -> subprocess.Popen:
    """Starts sampling `pid` (with call graphs), or every CPU when pid is None; stop it with `finish`."""
    target = ["-p", str(pid), "-g"] if pid is not None else ["-a"]
    return subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", *target, "-o", output],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def finish(recorder: subprocess.Popen) -> None:
    recorder.send_signal(signal.SIGINT)
    try:
        recorder.wait(60)
    except subprocess.TimeoutExpired:
        recorder.kill()
        recorder.wait(5)


def top(perf_data: str, sort: str = "dso,symbol", limit: int = 15, remove: bool = True) -> list[dict]:
    """The hottest entries (self time) of a recording, sorted by `sort` (perf's keys: comm, dso, symbol)."""
    keys = sort.split(",")
    report = subprocess.run(["perf", "report", "-i", perf_data, "--stdio", "--no-children", "--sort", sort,
                             "--percent-limit", "0.5", "-g", "none"], capture_output=True, text=True, timeout=300).stdout
    if remove:
        os.remove(perf_data)
    rows = []
    for line in report.splitlines():
        match = re.match(r"\s+([\d.]+)%\s+(.*)$", line)
        if not match:
            continue
        fields = re.split(r"\s{2,}", match.group(2).strip())
        row = {"percent": float(match.group(1))}
        for key, value in zip(keys, fields):
            if key == "symbol":
                value = demangle(re.sub(r"^\[.\]\s+", "", value).split()[0] if value.startswith("[") else value)
            row[key] = value
        rows.append(row)
    return rows[:limit]


def demangle(symbol: str) -> str:
    if not symbol.startswith("$s"):
        return symbol
    tool = shutil.which("swift-demangle") or "/opt/swift/usr/bin/swift-demangle"
    try:
        text = subprocess.run([tool, "--simplified", symbol], capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return symbol
    return text.split(" ---> ")[-1] or symbol
