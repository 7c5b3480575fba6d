"""The hub's service-loop figures around one relay step, read from its admin listener, lined up with the step's slow
deliveries.

`riftgate-hub` times every pass of its service loop (from the return of the event wait to the next wait) and every
wait: `/metrics` has both histograms and what ran in the passes over 2 ms, `/service-passes` the latest slow passes with
their CLOCK_MONOTONIC start (the clock of `time.monotonic_ns`), wall and CPU time. Per step this gives the histograms'
differences, the slow passes inside the step, how many of the step's slow deliveries (> 5 ms) had a slow hub pass
between their send and their receipt, and the service thread's own run-queue wait and involuntary switches.
"""
from __future__ import annotations

import os
import re
import time
import urllib.error
import urllib.request

SERVICE_THREAD = "riftgate-ws-srv"
SAMPLE = re.compile(r'^(riftgate_hub_service_\w+?)(?:\{(\w+)="([^"]*)"\})? (\S+)$')


class HubPassProbe:
    """Reads the hub's service-loop figures at `admin_url` (http://host:port of its admin listener); `hub_pid` finds its
    service thread in /proc."""

    def __init__(self, admin_url: str, hub_pid: int):
        self.admin_url, self.hub_pid = admin_url.rstrip("/"), hub_pid
        self.thread = self._service_thread()

    def _get(self, path: str) -> str:
        with urllib.request.urlopen(self.admin_url + path, timeout=10) as response:
            return response.read().decode()

    def _service_thread(self) -> str | None:
        for task in os.listdir(f"/proc/{self.hub_pid}/task"):
            try:
                with open(f"/proc/{self.hub_pid}/task/{task}/comm") as handle:
                    if handle.read().strip() == SERVICE_THREAD:
                        return task
            except OSError:
                continue
        return None

    def _thread_figures(self) -> tuple[float, int]:
        """(seconds waited for a CPU, involuntary context switches) of the service thread so far."""
        if self.thread is None:
            return 0.0, 0
        base = f"/proc/{self.hub_pid}/task/{self.thread}"
        with open(f"{base}/schedstat") as handle:
            waited = int(handle.read().split()[1]) / 1e9
        switches = 0
        with open(f"{base}/status") as handle:
            for line in handle:
                if line.startswith("nonvoluntary_ctxt_switches"):
                    switches = int(line.split()[1])
        return waited, switches

    def snapshot(self) -> dict:
        """The service-loop samples of /metrics by (name, label value), plus the thread figures and the time."""
        samples = {}
        for line in self._get("/metrics").splitlines():
            match = SAMPLE.match(line)
            if match:
                samples[(match.group(1), match.group(3) or "")] = float(match.group(4))
        waited, switches = self._thread_figures()
        return {"samples": samples, "runqueue_s": waited, "involuntary": switches, "ns": time.monotonic_ns(),
                "others": other_tasks_cpu({self.hub_pid, os.getpid()})}

    def slow_passes(self) -> list[dict]:
        """The hub's latest slow passes (at most 512), oldest first; none from a hub without the page (404)."""
        try:
            lines = self._get("/service-passes").splitlines()
        except urllib.error.HTTPError:
            return []
        if not lines:
            return []
        names = lines[0].lstrip("# ").split()
        return [dict(zip(names, map(int, line.split()))) for line in lines[1:] if line.strip()]

    def step_figures(self, before: dict, after: dict, slow_deliveries: list[tuple[int, int]]) -> dict:
        """What the hub's service loop did between two snapshots, and how many of `slow_deliveries` ((received ns,
        latency ns), CLOCK_MONOTONIC) overlapped one of its slow passes."""
        delta = {key: after["samples"].get(key, 0) - value for key, value in before["samples"].items()}

        def buckets(name: str) -> dict:
            """Non-cumulative counts per bucket, keyed by upper bound in ms."""
            cumulative = sorted(((float("inf") if label == "+Inf" else float(label), count)
                                 for (key, label), count in delta.items() if key == f"{name}_bucket"))
            out, previous = {}, 0
            for bound, count in cumulative:
                if count - previous:
                    out["inf" if bound == float("inf") else f"{bound * 1000:g}"] = int(count - previous)
                previous = count
            return out

        passes = [p for p in self.slow_passes() if before["ns"] <= p["started_ns"] <= after["ns"]]
        spans = sorted((p["started_ns"], p["started_ns"] + p["duration_ns"]) for p in passes)
        explained = 0
        for received, latency in slow_deliveries:
            sent = received - latency
            if any(start < received and end > sent for start, end in spans):
                explained += 1
        work = {label: int(value) for (key, label), value in delta.items()
                if key == "riftgate_hub_service_slow_pass_work_total" and value}
        work.update({f"{label}_ms": round(1000 * value, 2) for (key, label), value in delta.items()
                     if key == "riftgate_hub_service_slow_pass_job_seconds_total" and value})
        count = delta.get(("riftgate_hub_service_pass_seconds_count", ""), 0)
        total = delta.get(("riftgate_hub_service_pass_seconds_sum", ""), 0)
        waits = delta.get(("riftgate_hub_service_wait_seconds_sum", ""), 0)
        return {
            "passes": int(count),
            "pass_mean_us": round(1e6 * total / count, 1) if count else None,
            "busy_share": round(total / (total + waits), 3) if total + waits else None,
            "pass_ms_buckets": buckets("riftgate_hub_service_pass_seconds"),
            "wait_ms_buckets": buckets("riftgate_hub_service_wait_seconds"),
            "slow_passes": int(delta.get(("riftgate_hub_service_slow_passes_total", ""), 0)),
            "slow_pass_off_cpu_ms": round(1000 * delta.get(("riftgate_hub_service_slow_pass_off_cpu_seconds_total", ""), 0), 2),
            "slow_pass_work": work,
            "slow_passes_listed": [{"at_ms": round((p["started_ns"] - before["ns"]) / 1e6, 1),
                                    "ms": round(p["duration_ns"] / 1e6, 2), "cpu_ms": round(p["cpu_ns"] / 1e6, 2),
                                    "wait_before_ms": round(p["wait_before_ns"] / 1e6, 2),
                                    **{k: v for k, v in p.items()
                                       if k not in ("started_ns", "duration_ns", "cpu_ns", "wait_before_ns") and v}}
                                   for p in passes[:40]],
            "slow_deliveries": len(slow_deliveries),
            "slow_deliveries_during_a_slow_pass": explained,
            "service_thread_runqueue_wait_ms": round(1000 * (after["runqueue_s"] - before["runqueue_s"]), 1),
            "service_thread_involuntary_switches": after["involuntary"] - before["involuntary"],
            "other_tasks_cpu_ms": busiest_others(before["others"], after["others"]),
        }


def other_tasks_cpu(excluded: set[int]) -> dict[int, tuple[str, int]]:
    """(name, CPU nanoseconds so far) of every other task on the machine by pid (/proc/PID/schedstat: the thread-group
    leader, which for kernel threads such as kdamond, ksoftirqd and kworkers is the whole task). A kworker's name
    changes with the work queue it serves; only its prefix is kept."""
    figures = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in excluded:
            continue
        try:
            with open(f"/proc/{entry}/schedstat") as handle:
                on_cpu = int(handle.read().split()[0])
            with open(f"/proc/{entry}/comm") as handle:
                name = handle.read().strip()
            figures[int(entry)] = (name.split("-")[0] if name.startswith("kworker/") else name, on_cpu)
        except (OSError, ValueError, IndexError):
            continue
    return figures


def busiest_others(before: dict, after: dict, count: int = 6) -> dict[str, float]:
    """The `count` other tasks that used the most CPU between two `other_tasks_cpu` samples, in ms, by name."""
    used = {}
    for pid, (name, value) in after.items():
        if pid in before:  # a task started meanwhile is left out rather than counted from its start
            used[name] = used.get(name, 0) + value - before[pid][1]
    return {name: round(ns / 1e6, 1) for name, ns in sorted(used.items(), key=lambda item: -item[1])[:count] if ns > 0}


def summary_line(figures: dict) -> str:
    """One log line of `step_figures`."""
    return (f"\n    hub loop: {figures['passes']} passes, mean {figures['pass_mean_us']} µs, busy {figures['busy_share']}, "
            f"pass ms {figures['pass_ms_buckets']}, wait ms {figures['wait_ms_buckets']}; "
            f"{figures['slow_passes']} passes > 2 ms (off-CPU {figures['slow_pass_off_cpu_ms']} ms, work "
            f"{figures['slow_pass_work']}); slow deliveries during a slow pass: "
            f"{figures['slow_deliveries_during_a_slow_pass']} of {figures['slow_deliveries']}; service thread run-queue "
            f"wait {figures['service_thread_runqueue_wait_ms']} ms, {figures['service_thread_involuntary_switches']} "
            f"involuntary switches; other tasks' CPU ms {figures['other_tasks_cpu_ms']}")
