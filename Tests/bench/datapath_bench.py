"""Data-path cost: instructions per forwarded packet in the agent's forwarding loop, counted by callgrind.

The harness (`Tests/bench/DataPathHarness`, run through its XCTest entry) pushes K WireGuard-sized datagrams through
the real `ForwardingSocket` + `ForwardingLoop` into a fake ICE send. Callgrind runs with `--separate-threads=yes`,
and only the forwarding thread's file is counted (the one that calls `CRiftLinux_recvmmsg`), so the sender's work and
process start-up are excluded. Per packet = (I(K2) - I(K1)) / (K2 - K1), with I the median over `repeats` runs, which
also cancels the thread's fixed costs (start, shutdown). Two loads:

- burst 32: the sender sends 32 datagrams, then waits until they are forwarded (bulk transfer; recvmmsg batches);
- burst 1: one datagram at a time (interactive traffic; every packet pays a full epoll wake-up).

Counts are user-space instructions (callgrind does not see the kernel), so system-call work is not included. The
test bundle is copied and stripped of DWARF first: valgrind 3.19 cannot read Swift 6's debug info (symbols remain).
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from procstats import median

ENTRY = "DataPathHarnessTests.ForwardingLoopCallgrindEntry"


def log(text: str) -> None:
    print(f"[datapath] {text}", file=sys.stderr, flush=True)


def prepare_harness(test_bin_dir: str, out_dir: str) -> str:
    bundle = os.path.join(test_bin_dir, "riftgatePackageTests.xctest")
    if not os.access(bundle, os.X_OK):
        raise FileNotFoundError(f"{bundle} is missing: swift build -c release --build-tests -Xswiftc -enable-testing "
                                f"--scratch-path .build-bench (make bench does this)")
    harness = os.path.join(out_dir, "datapath-harness")
    shutil.copy2(bundle, harness)
    subprocess.run(["strip", "--strip-debug", harness], check=True)
    return harness


def callgrind_run(harness: str, packets: int, burst: int) -> dict:
    """One run: the forwarding thread's instructions and call counts."""
    with tempfile.TemporaryDirectory(prefix="callgrind-", dir=os.path.dirname(harness)) as scratch:
        env = dict(os.environ, RIFTGATE_FORWARDING_PACKETS=str(packets), RIFTGATE_FORWARDING_BURST=str(burst),
                   RIFTGATE_FORWARDING_TIMEOUT="120")
        result = subprocess.run(["valgrind", "--tool=callgrind", "--separate-threads=yes",
                                 f"--callgrind-out-file={scratch}/cg.out", harness, "--testing-library", "xctest", ENTRY],
                                env=env, capture_output=True, text=True, timeout=600)
        output = result.stdout + result.stderr
        if result.returncode != 0 or f"forwarded {packets} datagrams" not in output:
            raise RuntimeError(f"harness failed under callgrind ({result.returncode}): {output[-1500:]}")
        files = [path for path in glob.glob(f"{scratch}/cg.out*") if "CRiftLinux_recvmmsg" in open(path, errors="replace").read()]
        if len(files) != 1:
            raise RuntimeError(f"expected one forwarding-thread profile, found {len(files)}")
        text = open(files[0], errors="replace").read()
        total = int(re.search(r"^summary:\s+(\d+)", text, re.M).group(1))
        return {"instructions": total, "calls": call_counts(text), "self": self_costs(files[0])}


def call_counts(text: str) -> dict:
    """Calls made by the profiled thread to each function, from callgrind's compressed `cfn=` / `calls=` lines."""
    names: dict[str, str] = {}
    counts: dict[str, int] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("cfn="):
            match = re.match(r"cfn=\((\d+)\)(?: (.*))?", line)
            if match:
                if match.group(2):
                    names[match.group(1)] = match.group(2)
                current = names.get(match.group(1))
        elif line.startswith("fn="):
            match = re.match(r"fn=\((\d+)\)(?: (.*))?", line)
            if match and match.group(2):
                names[match.group(1)] = match.group(2)
        elif line.startswith("calls=") and current:
            counts[current] = counts.get(current, 0) + int(line.split("=")[1].split()[0])
            current = None
    return counts


def self_costs(path: str) -> dict:
    """Instructions spent in each function itself (callgrind_annotate's exclusive view)."""
    report = subprocess.run(["callgrind_annotate", "--threshold=100", path], capture_output=True, text=True, timeout=120).stdout
    costs = {}
    for line in report.splitlines():
        match = re.match(r"\s*([\d,]+)\s+\([\s\d.]+%\)\s+[^:\s]*:(.+?)(?: \[[^\]]*\])?$", line)
        if match and "PROGRAM TOTALS" not in line:
            costs[match.group(2)] = costs.get(match.group(2), 0) + int(match.group(1).replace(",", ""))
    return costs


def demangle_all(names: list[str]) -> dict:
    tool = shutil.which("swift-demangle") or "/opt/swift/usr/bin/swift-demangle"
    if not os.path.exists(tool):
        return {name: name for name in names}
    output = subprocess.run([tool, "--simplified"], input="\n".join(names) + "\n", capture_output=True, text=True,
                            timeout=60).stdout.splitlines()
    return {name: (output[index] if index < len(output) else name) for index, name in enumerate(names)}


def measure_load(harness: str, burst: int, small: int, large: int, repeats: int) -> dict:
    runs = {small: [], large: []}
    for _ in range(repeats):
        for packets in (small, large):
            runs[packets].append(callgrind_run(harness, packets, burst))
    totals = {packets: [run["instructions"] for run in runs[packets]] for packets in runs}
    per_packet = (median(totals[large]) - median(totals[small])) / (large - small)
    spread = [(l - s) / (large - small) for s in totals[small] for l in totals[large]]
    pick = lambda packets: sorted(runs[packets], key=lambda run: run["instructions"])[len(runs[packets]) // 2]  # noqa: E731
    low, high = pick(small), pick(large)
    names = sorted(set(low["self"]) | set(high["self"]))
    readable = demangle_all(names)
    breakdown = sorted(((readable[name], (high["self"].get(name, 0) - low["self"].get(name, 0)) / (large - small))
                        for name in names), key=lambda item: -item[1])
    wakeups = {name: (high["calls"].get(name, 0) - low["calls"].get(name, 0)) / (large - small)
               for name in ("CRiftLinux_recvmmsg", "epoll_wait")}
    result = {
        "burst": burst, "packets": [small, large], "repeats": repeats,
        "instructions_per_packet": round(per_packet, 1),
        "range_per_packet": [round(min(spread), 1), round(max(spread), 1)],
        "forwarding_thread_instructions": totals,
        "calls_per_packet": {name: round(value, 3) for name, value in wakeups.items()},
        "top_per_packet": [{"function": name[:160], "instructions": round(cost, 1)} for name, cost in breakdown[:12] if cost > 0.5],
    }
    log(f"burst {burst}: {result['instructions_per_packet']} instructions/packet (range {result['range_per_packet']}), "
        f"recvmmsg calls/packet {result['calls_per_packet']['CRiftLinux_recvmmsg']}")
    return result


def run_datapath(test_bin_dir: str, out_dir: str, quick: bool = False) -> dict:
    harness = prepare_harness(test_bin_dir, out_dir)
    small, large, repeats = (500, 1500, 1) if quick else (2000, 10000, 5)
    try:
        loads = [measure_load(harness, burst, small, large, repeats) for burst in (32, 1)]
    finally:
        os.remove(harness)
    version = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    return {"tool": version, "datagram_bytes": 1412, "loads": loads,
            "command": f"RIFTGATE_FORWARDING_PACKETS=K RIFTGATE_FORWARDING_BURST=B valgrind --tool=callgrind "
                       f"--separate-threads=yes <stripped riftgatePackageTests.xctest> --testing-library xctest {ENTRY}"}
