"""What the soak samples (resident memory, open descriptors, threads of one process) and how it judges a series flat.

A series is flat when its least-squares growth over the run (after a warm-up, while caches and pools fill) stays
within a tolerance: for memory 10 % of its mean or 2 MiB, whichever is larger; for descriptors 10 or 10 %; for threads
2. A leak of a descriptor per churn action, a thread per flap or a few KiB per relayed signal all exceed it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

TOLERANCE = {"rss_kib": (2048, 0.10), "fds": (10, 0.10), "threads": (2, 0.0)}


def process_sample(pid: int) -> dict | None:
    """Resident memory (KiB), open descriptors and threads of `pid`; None when it is gone."""
    try:
        values = {}
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    values["rss_kib"] = int(line.split()[1])
                elif line.startswith("Threads:"):
                    values["threads"] = int(line.split()[1])
        values["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
        return values
    except OSError:
        return None


@dataclass
class Series:
    """Samples of one metric of one process: (seconds since the start, value)."""
    name: str
    points: list = field(default_factory=list)

    def add(self, seconds: float, value: float) -> None:
        self.points.append((seconds, value))


def slope(points) -> float:
    """Least-squares slope (value per second) of `points`; 0 for fewer than two distinct times."""
    if len(points) < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / spread


def verdicts(all_series, warmup_fraction: float) -> list[dict]:
    """One entry per series: first and last value, slope per hour after the warm-up, and whether it stayed flat."""
    entries = []
    for series in sorted(all_series, key=lambda item: item.name):
        if not series.points:
            continue
        end = series.points[-1][0]
        steady = [point for point in series.points if point[0] >= end * warmup_fraction] or series.points
        per_second = slope(steady)
        window = steady[-1][0] - steady[0][0]
        metric = series.name.rsplit(" ", 1)[-1]
        absolute, relative = TOLERANCE.get(metric, (0, 0.10))
        mean = sum(value for _, value in steady) / len(steady)
        growth = per_second * window
        entries.append({"name": series.name, "first": series.points[0][1], "last": series.points[-1][1],
                        "samples": len(series.points), "slope_per_hour": round(per_second * 3600, 1),
                        "growth_over_run": round(growth, 1), "tolerance": round(max(absolute, relative * mean), 1),
                        "flat": growth <= max(absolute, relative * mean)})
    return entries
