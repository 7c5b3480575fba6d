"""Small measurement helpers shared by the benchmarks: /proc samples, percentiles, the machine description."""
from __future__ import annotations

import math
import os
import platform
import subprocess
import time
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    time: float      # monotonic seconds
    rss_kib: int     # resident set size
    cpu: float       # user + system CPU seconds since the process started


class ProcessSample:
    """Reads a process's resident memory and CPU time from /proc."""

    def __init__(self, pid: int):
        self.pid = pid

    def sample(self) -> Sample:
        rss = 0
        with open(f"/proc/{self.pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                    break
        with open(f"/proc/{self.pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        # After the command name: state is field 3, so utime (14) and stime (15) are at offsets 11 and 12.
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        return Sample(time.monotonic(), rss, cpu)


def runqueue_wait_s(pid: int) -> float:
    """Seconds the process's threads have waited for a CPU while runnable (/proc/PID/task/*/schedstat, field 2)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as handle:
                total += int(handle.read().split()[1])
        except (OSError, IndexError, ValueError):
            pass
    return total / 1e9


def percentile(sorted_values, p: float):
    """The p-th percentile (nearest rank) of already sorted values; None when empty."""
    if not sorted_values:
        return None
    if p >= 100:
        return sorted_values[-1]
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def median(values):
    ordered = sorted(values)
    return percentile(ordered, 50)


def machine() -> dict:
    """Where the figures come from: CPU, cores, kernel, memory, and whether this looks like a VM/sandbox."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory_kib = 0
    try:
        with open("/proc/meminfo") as handle:
            memory_kib = int(handle.readline().split()[1])
    except OSError:
        pass
    virtualization = []
    try:
        with open("/proc/cmdline") as handle:
            if "firecracker" in handle.read():
                virtualization.append("Firecracker microVM")
    except OSError:
        pass
    try:
        detected = subprocess.run(["systemd-detect-virt"], capture_output=True, text=True, timeout=5).stdout.strip()
        if detected and detected != "none":
            virtualization.append(f"systemd-detect-virt: {detected}")
    except (OSError, subprocess.SubprocessError):
        pass
    return {"cpu": model, "nproc": os.cpu_count(), "kernel": platform.release(), "memory_gib": round(memory_kib / 2**20, 1),
            "virtualization": ", ".join(virtualization) or "bare metal or unknown", "python": platform.python_version()}
