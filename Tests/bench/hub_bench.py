"""Hub capacity: a real `riftgate-hub` on 127.0.0.1 driven by `hub_loadgen.py` with N = 1,000 and 10,000 agents.

Networks and tokens are created with the hub's own CLI (`network create`, `token create`) once per population shape
and cached under bench-results/cache; each run starts from a fresh copy of that state, so runs do not see each
other's peers. With `tls=True` the hub serves `wss://` with a self-signed P-256 ECDSA certificate (certbot's default
key type since 2.0) made by `openssl req` in a temporary directory, which the load generator trusts. With
`profile=True` the hub is also sampled with `perf record` (software cpu-clock: this VM has no hardware counters) during
the run, and the top symbols are reported.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import perf_profile
from workdirs import work_directory

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = re.compile(r"rgt_[A-Za-z0-9_-]{43}")


def log(text: str) -> None:
    print(f"[hub] {text}", file=sys.stderr, flush=True)


def prepare_state(hub_binary: str, cache_dir: str, networks: int) -> tuple[str, str]:
    """A pristine state directory with `networks` networks and one token each (cached); returns (state, tokens.json)."""
    state = os.path.join(cache_dir, f"hub-state-{networks}")
    tokens_file = os.path.join(state, "tokens.json")
    if os.path.exists(tokens_file):
        return state, tokens_file
    shutil.rmtree(state, ignore_errors=True)
    os.makedirs(state)
    log(f"creating {networks} networks and tokens with the hub CLI (cached in {state})")
    started = time.monotonic()
    tokens = []
    for index in range(networks):
        name = f"bench-{index:05d}"
        subprocess.run([hub_binary, "network", "create", name, "--state-dir", state], check=True, capture_output=True)
        output = subprocess.run([hub_binary, "token", "create", name, "--label", "bench", "--state-dir", state],
                                check=True, capture_output=True, text=True).stdout
        tokens.append({"network": name, "token": TOKEN.search(output).group(0)})
    with open(tokens_file + ".tmp", "w") as handle:
        json.dump(tokens, handle)
    os.rename(tokens_file + ".tmp", tokens_file)
    log(f"created in {time.monotonic() - started:.0f} s")
    return state, tokens_file


class HubProcess:
    """`riftgate-hub serve` on loopback (ephemeral ports unless `listen` names one), quiet logging (notice), no STUN.

    `listening_at` is when its "listening" line was read (CLOCK_MONOTONIC); fails when the hub exits or does not
    listen within 20 s. `extra_args` are added to `serve` (a cluster member's --database, --nats, --hub-id); the
    log's lines are kept in `lines` (`wait_for_log`).
    """

    def __init__(self, hub_binary: str, state_dir: str, log_path: str, listen: str = "127.0.0.1:0", extra_args=()):
        self.log_path = log_path
        self.port = self.admin_port = self.listening_at = None
        self.scheme = "ws"
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [hub_binary, "serve", "--state-dir", state_dir, "--listen", listen, "--admin-listen", "127.0.0.1:0",
             "--no-stun", "--log-level", "notice", *extra_args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        ready = threading.Event()

        def pump():
            with open(log_path, "a") as out:
                for line in self.process.stderr:
                    out.write(line)
                    self.lines.append(line)
                    if "riftgate-hub listening" in line:
                        self.listening_at = time.monotonic()
                        url = re.search(r"url=(wss?)://\S+?:(\d+)/", line)
                        self.scheme, self.port = url.group(1), int(url.group(2))
                        self.admin_port = int(re.search(r"admin=\S*?:(\d+)", line).group(1))
                        ready.set()
            ready.set()  # exited

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(20) or self.port is None:
            self.stop()
            raise RuntimeError(f"the hub did not start; see {log_path}")

    def wait_for_log(self, text: str, timeout: float) -> bool:
        """Whether a log line containing `text` appears within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in list(self.lines)):
                return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    @property
    def pid(self) -> int:
        return self.process.pid

    def metrics(self) -> dict:
        import urllib.request
        values = {}
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/metrics", timeout=10) as response:
            for line in response.read().decode().splitlines():
                if line and not line.startswith("#"):
                    name, value = line.rsplit(" ", 1)
                    values[name] = float(value)
        return values

    def kill(self) -> float:
        """SIGKILL, as a crash or a power cut would; returns when it was sent (CLOCK_MONOTONIC)."""
        killed_at = time.monotonic()
        self.process.kill()
        self.process.wait(10)
        return killed_at

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def self_signed_certificate(directory: str) -> tuple[str, str]:
    """(certificate, key) for 127.0.0.1, made with `openssl req` in `directory`."""
    cert, key = os.path.join(directory, "hub.pem"), os.path.join(directory, "hub.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=30)
    return cert, key


def run_hub_capacity(bin_dir: str, out_dir: str, cache_dir: str, counts=(1000, 10000), network_size: int = 10,
                     rates=(1000, 2000, 5000, 10000, 20000), step_seconds: float = 5, idle_seconds: float = 20,
                     profile: bool = False, loadgen_processes: int = 1, tls: bool = False,
                     storm_client: str | None = None, relay_client: str | None = None) -> dict:
    """One measured run per N; with `profile`, one more run at the largest N under perf (its figures are not used,
    as sampling perturbs them), reporting the hub's top symbols at the two lowest rates. `loadgen_processes` > 1 puts
    the agents in that many load-generator processes (`loadgen_shards.py`); `tls` runs the hub on `wss://`;
    `storm_client` and `relay_client` are `hub_loadgen.py --storm-client` and `--relay-client` (None: its defaults)."""
    hub_binary = os.path.join(bin_dir, "riftgate-hub")
    networks = (max(counts) + network_size - 1) // network_size
    pristine, tokens_file = prepare_state(hub_binary, cache_dir, networks)
    results = {"network_size": network_size, "tls": tls, "runs": []}
    with tempfile.TemporaryDirectory(prefix="hub-bench-tls-") as directory:
        certificate = self_signed_certificate(directory) if tls else None
        for count in counts:
            results["runs"].append(one_run(hub_binary, pristine, tokens_file, out_dir, count, network_size, rates,
                                           step_seconds, idle_seconds, profile=False,
                                           loadgen_processes=loadgen_processes, certificate=certificate,
                                           storm_client=storm_client, relay_client=relay_client))
        if profile and perf_profile.available():
            profiled = one_run(hub_binary, pristine, tokens_file, out_dir, max(counts), network_size,
                               sorted(rates)[:2], step_seconds, 5, profile=True, loadgen_processes=loadgen_processes,
                               certificate=certificate, storm_client=storm_client, relay_client=relay_client)
            results["profile"] = {"agents": max(counts), "rates": sorted(rates)[:2],
                                  "top": profiled.get("profile_top", []),
                                  "note": "perf record -e cpu-clock -g -p <hub> over the whole run (join storm, idle, relay)"}
    return results


def one_run(hub_binary: str, pristine: str, tokens_file: str, out_dir: str, count: int, network_size: int, rates,
            step_seconds: float, idle_seconds: float, profile: bool, loadgen_processes: int = 1,
            certificate: tuple[str, str] | None = None, storm_client: str | None = None,
            relay_client: str | None = None) -> dict:
    """One hub and one load-generator run for N = `count`; `certificate` (cert, key) serves `wss://`."""
    suffix = ("-tls" if certificate else "") + ("-profile" if profile else "")
    with work_directory(os.path.join(out_dir, "work"), f"hub-{count}{suffix}") as scratch:
        state = os.path.join(scratch, "state")
        shutil.copytree(pristine, state)
        tls_args = ("--tls-cert", certificate[0], "--tls-key", certificate[1]) if certificate else ()
        hub = HubProcess(hub_binary, state, os.path.join(out_dir, f"hub-{count}{suffix}.log"), extra_args=tls_args)
        perf_data = os.path.join(out_dir, f"hub-{count}{suffix}.perf.data")
        perf = perf_profile.start(perf_data, pid=hub.pid) if profile else None
        try:
            log(f"N = {count}{' (profiled)' if profile else ''}: hub pid {hub.pid} on 127.0.0.1:{hub.port}")
            command = [sys.executable, os.path.join(HERE, "hub_loadgen.py"),
                       "--url", f"{hub.scheme}://127.0.0.1:{hub.port}",
                       *(("--ca-file", certificate[0]) if certificate else ()),
                       "--tokens", tokens_file, "--agents", str(count), "--network-size", str(network_size),
                       "--hub-pid", str(hub.pid), "--hub-admin-url", f"http://127.0.0.1:{hub.admin_port}",
                       "--rates", ",".join(str(r) for r in rates),
                       "--step-seconds", str(step_seconds), "--idle-seconds", str(idle_seconds),
                       "--processes", str(loadgen_processes),
                       *(("--storm-client", storm_client) if storm_client else ()),
                       *(("--relay-client", relay_client) if relay_client else ())]
            completed = subprocess.run(command, stdout=subprocess.PIPE, text=True, timeout=1800)
            if completed.returncode != 0:
                raise RuntimeError(f"the load generator failed ({completed.returncode})")
            run = json.loads(completed.stdout)
            metrics = hub.metrics()
            run["hub_metrics"] = {key: value for key, value in metrics.items()
                                  if key.startswith(("riftgate_hub_messages_relayed_total", "riftgate_hub_connections_total",
                                                     "riftgate_hub_slow_connections_closed_total"))
                                  or (key.startswith("riftgate_hub_messages_rejected_total") and value)}
            run["hub_rss_peak_kib"] = rss_peak(hub.pid)
            run["command"] = " ".join(command)
        finally:
            if perf is not None:
                perf_profile.finish(perf)
            hub.stop()
        if perf is not None:
            run["profile_top"] = perf_profile.top(perf_data)
        return run


def rss_peak(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description="hub capacity benchmark alone")
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--out", default="bench-results")
    parser.add_argument("--counts", default="1000,10000")
    parser.add_argument("--rates", default="1000,2000,5000,10000,20000")
    parser.add_argument("--idle-seconds", type=float, default=20)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--loadgen-processes", type=int, default=1, help="load-generator processes holding the agents")
    parser.add_argument("--tls", action="store_true", help="the hub serves wss:// (a self-signed certificate)")
    parser.add_argument("--storm-client", choices=("epoll", "asyncio"),
                        help="the load generator's join storm client (default: epoll for ws://, asyncio for wss://)")
    parser.add_argument("--relay-client", choices=("epoll", "asyncio"),
                        help="the load generator's relay client (default: epoll with the epoll storm client, else asyncio)")
    arguments = parser.parse_args()
    os.makedirs(arguments.out, exist_ok=True)
    print(json.dumps(run_hub_capacity(arguments.bin_dir, arguments.out, os.path.join(arguments.out, "cache"),
                                      counts=[int(c) for c in arguments.counts.split(",")],
                                      rates=[float(r) for r in arguments.rates.split(",")],
                                      idle_seconds=arguments.idle_seconds, profile=arguments.profile,
                                      loadgen_processes=arguments.loadgen_processes, tls=arguments.tls,
                                      storm_client=arguments.storm_client, relay_client=arguments.relay_client),
                     indent=2))
