"""`make soak`: a bounded soak of the hub and the agents (30 minutes by default; not part of `make test`).

In one lab (network namespaces, as the e2e tests build them):
- a real hub (with coturn) serving a real 4-agent mesh across two home NATs, whose direct paths flap: every
  `--flap-every` seconds the two NAT routers stop passing packets to each other for `--flap-for` seconds (the relay
  and the hub stay reachable), while every agent pings every other through the tunnel; halfway between two flaps,
  agent d's own hub connection is cut for `--hub-cut-for` seconds (nftables in its namespace): the hub announces it
  left, and every pair with d must still answer (its peers keep the working tunnels, Mesh+AbsentPeers) until d is
  back on the hub;
- the same hub holding `--agents` simulated agents (`churn.py`) that join, leave, get replaced and revoked while
  signals flow between them, checked against what really happened (no false `peer_left`, no lost or misdelivered
  signal, every agent's final view equal to its network's membership).

Every `--sample-every` seconds it samples resident memory, open descriptors and threads of the hub, each agent and
each agent's wireguard-go, then prints each series' slope (least squares, per hour, after the first fifth of the run)
and whether it stayed flat, and writes everything to `<out>/soak.json`. Exit status 0 when the run is clean: no
problem from the churn, every mesh pair answering again after each flap, and no series growing.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.path.join(ROOT, "Tests", "lab")]

from coturn import turnserver_missing  # noqa: E402
from deployment import Deployment  # noqa: E402
from hub_link import block_hub, unblock_hub  # noqa: E402
from lab import Lab, wait_for  # noqa: E402
from riftgate_lab import binary  # noqa: E402
from soak_samples import Series, process_sample, verdicts  # noqa: E402
from topologies import home_nats  # noqa: E402

ROLES = ("a", "b", "c", "d")


def log(text: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {text}", flush=True)


def hub_pid(deployment: Deployment) -> int:
    for pid in subprocess.run(["ip", "netns", "pids", deployment.hub.host.netns], capture_output=True,
                              text=True).stdout.split():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if b"riftgate-hub\x00serve" in handle.read():
                    return int(pid)
        except OSError:
            continue
    raise RuntimeError("the hub process is not running")


def children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
        except OSError:
            pass
    return found


def start_churn(deployment: Deployment, options, workdir: str) -> subprocess.Popen:
    """Creates the churn networks and tokens and starts `churn.py` in the hub's namespace."""
    networks = max(1, options.agents // options.network_size)
    tokens = []
    for index in range(networks):
        name = f"churn{index}"
        deployment.hub.create_network(name, "--max-peers", str(options.network_size * 4))
        tokens.append({"network": name, "token": deployment.hub.create_token(name, "soak")})
    hub = deployment.hub
    args = [sys.executable, os.path.join(HERE, "churn.py"), "--host", hub.host.address, "--port", str(hub.port),
            "--tokens", json.dumps(tokens), "--hub-bin", binary("riftgate-hub"), "--state-dir", hub.state_dir,
            "--agents", str(options.agents), "--seconds", str(options.minutes * 60),
            "--churn-rate", str(options.churn_rate), "--relay-rate", str(options.relay_rate)]
    stdout = open(os.path.join(workdir, "churn.out"), "wb")
    return subprocess.Popen(["ip", "netns", "exec", hub.host.netns, *args], stdout=stdout,
                            stderr=open(os.path.join(workdir, "churn.log"), "wb"), start_new_session=True)


def mesh_answers(deployment: Deployment) -> dict[str, bool]:
    return {f"{source}->{target}": deployment.ping(source, target)
            for source in ROLES for target in ROLES if source < target}


# The hub's heartbeat in the soak: a silent connection is announced gone within ~8 s instead of the default 80 s,
# so that a hub cut shows peers off the hub within the cut.
HUB_OPTIONS = ("--ping-interval", "2", "--pong-timeout", "6")
CUT_ROLE = "d"


def cut_hub_link(deployment: Deployment, options, started: float) -> dict:
    """Cuts d's hub connection for `options.hub_cut_for` seconds. While it is cut, once the hub announced d gone (the
    other agents list it as absent), every pair with d must answer through the tunnel; afterwards d must rejoin."""
    host = deployment.topology.peers[CUT_ROLE]
    key = deployment.agents[CUT_ROLE].status()["public_key"]
    others = [role for role in ROLES if role != CUT_ROLE]

    def absent_on(role: str) -> bool:
        return (deployment.agents[role].peer(key) or {}).get("absent_from_hub_seconds") is not None

    def absent_everywhere() -> bool:
        return all(absent_on(role) for role in others)

    cut = time.monotonic()
    record: dict = {"at_s": round(cut - started)}
    block_hub(host, deployment.hub)
    try:
        wait_for(absent_everywhere, timeout=options.hub_cut_for, interval=0.5,
                 what="the other agents to keep d's tunnels once the hub announced d gone")
        record["announced_s"] = round(time.monotonic() - cut, 1)
        time.sleep(max(0.0, cut + options.hub_cut_for - time.monotonic()))
        answering = {f"{role}->{CUT_ROLE}": deployment.ping(role, CUT_ROLE, count=2) for role in others}
        record["pairs_answering_off_hub"] = answering
        if not all(answering.values()):
            record["error"] = "a pair with d stopped answering while d was off the hub"
    except Exception as error:  # noqa: BLE001 (recorded; the run goes on)
        record["error"] = str(error)
    finally:
        unblock_hub(host)
    restored = time.monotonic()
    try:
        wait_for(lambda: deployment.agents[CUT_ROLE].status()["hub"]["state"] == "connected"
                 and not any(absent_on(role) for role in others), timeout=60, interval=0.5, what="d to rejoin the hub")
        record["rejoined_s"] = round(time.monotonic() - restored, 1)
        wait_for(lambda: all(mesh_answers(deployment).values()), timeout=60, interval=1,
                 what="every mesh pair to answer after the hub cut")
    except Exception as error:  # noqa: BLE001
        record.setdefault("error", str(error))
    return record


def run(options) -> int:
    reason = turnserver_missing()
    if reason:
        log(f"cannot soak: {reason}")
        return 2
    os.makedirs(options.out, exist_ok=True)
    workdir = os.path.join(options.out, "work")
    os.makedirs(workdir, exist_ok=True)
    ulimit_note = None
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20_000), hard))
    except (ValueError, OSError) as error:
        ulimit_note = str(error)
    series: dict[str, Series] = {}
    flaps: list[dict] = []
    hub_cuts: list[dict] = []
    result: dict = {"options": vars(options), "ulimit_note": ulimit_note}
    with Lab() as lab:
        deployment = Deployment(home_nats(lab, left=("a", "b"), right=("c", "d")), workdir,
                                hub_options=HUB_OPTIONS if options.hub_cut_every > 0 else ())
        deployment.start_hub()
        for role in ROLES:
            deployment.agent(role).start()
        for source in ROLES:
            for target in ROLES:
                if source < target:
                    deployment.wait_for_ping(source, target, timeout=60)
        log("mesh of 4 agents up; starting the churn load")
        churn = start_churn(deployment, options, workdir)
        ready_deadline = time.monotonic() + 300
        while time.monotonic() < ready_deadline:
            with open(os.path.join(workdir, "churn.out"), "rb") as handle:
                if b'"event": "ready"' in handle.read():
                    break
            if churn.poll() is not None:
                log("churn.py stopped before it was ready; see churn.log")
                return 1
            time.sleep(1)
        log(f"churn load ready; soaking for {options.minutes} min")
        started = time.monotonic()
        deadline = started + options.minutes * 60
        next_sample = started
        next_flap = started + options.flap_every
        next_hub_cut = started + options.flap_every / 2 if options.hub_cut_every > 0 else float("inf")
        router = deployment.topology.router_of("a")
        peer_router = deployment.topology.router_of("c")
        while time.monotonic() < deadline:
            now = time.monotonic()
            if now >= next_sample:
                next_sample += options.sample_every
                elapsed = now - started
                processes = {"hub": hub_pid(deployment)}
                for role, agent in deployment.agents.items():
                    processes[f"agent-{role}"] = agent.process.pid
                    for child in children(agent.process.pid):
                        processes[f"wireguard-go-{role}"] = child
                for name, pid in processes.items():
                    sample = process_sample(pid)
                    if sample is None:
                        continue
                    for metric, value in sample.items():
                        series.setdefault(f"{name} {metric}", Series(f"{name} {metric}")).add(elapsed, value)
            if now >= next_flap:
                next_flap += options.flap_every
                router.cut(peer_router.public)
                time.sleep(options.flap_for)
                router.restore()
                restored = time.monotonic()
                try:
                    wait_for(lambda: all(mesh_answers(deployment).values()), timeout=120, interval=1,
                             what="every mesh pair to answer after a flap")
                    flaps.append({"at_s": round(restored - started), "all_pairs_back_s": round(time.monotonic() - restored, 1)})
                except Exception as error:  # noqa: BLE001 (recorded; the run goes on)
                    flaps.append({"at_s": round(restored - started), "error": str(error), "pairs": mesh_answers(deployment)})
                log(f"flap: {flaps[-1]}")
            if time.monotonic() >= next_hub_cut and time.monotonic() + options.hub_cut_for < deadline:
                next_hub_cut += options.hub_cut_every
                hub_cuts.append(cut_hub_link(deployment, options, started))
                log(f"hub cut: {hub_cuts[-1]}")
            time.sleep(1)
        log("soak time is up; waiting for the churn load's report")
        try:
            churn.wait(timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(churn.pid, signal.SIGKILL)
        with open(os.path.join(workdir, "churn.out")) as handle:
            lines = [line for line in handle.read().splitlines() if line.startswith("{")]
        result["churn"] = json.loads(lines[-1]) if lines and '"counts"' in lines[-1] else {"error": "no report; see churn.log"}
        result["flaps"] = flaps
        result["hub_cuts"] = hub_cuts
        result["series"] = verdicts(series.values(), warmup_fraction=0.2)
    problems = result["churn"].get("problem_counts", {"churn report missing": 1})
    failed_flaps = [flap for flap in flaps if "error" in flap]
    failed_cuts = [cut for cut in hub_cuts if "error" in cut]
    growing = [entry for entry in result["series"] if not entry["flat"]]
    result["clean"] = not any(problems.values()) and not failed_flaps and not failed_cuts and not growing
    with open(os.path.join(options.out, "soak.json"), "w") as handle:
        json.dump(result, handle, indent=2)
    print()
    print(f"{'series':<28} {'first':>10} {'last':>10} {'slope/h':>10}  verdict")
    for entry in result["series"]:
        print(f"{entry['name']:<28} {entry['first']:>10} {entry['last']:>10} {entry['slope_per_hour']:>10}  "
              f"{'flat' if entry['flat'] else 'GROWING'}")
    print(f"churn: {json.dumps(result['churn'].get('counts'))}")
    print(f"churn problems: {json.dumps(problems)}")
    print(f"flaps: {len(flaps)}, all pairs back after each: {not failed_flaps}; "
          f"slowest {max((flap.get('all_pairs_back_s', 0) for flap in flaps), default=0)} s")
    print(f"hub cuts of d: {len(hub_cuts)}, every pair with d answering off the hub and d back after each: "
          f"{not failed_cuts}; slowest rejoin {max((cut.get('rejoined_s', 0) for cut in hub_cuts), default=0)} s")
    print(f"figures: {os.path.join(options.out, 'soak.json')}; verdict: {'clean' if result['clean'] else 'NOT CLEAN'}")
    return 0 if result["clean"] else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--network-size", type=int, default=50)
    parser.add_argument("--churn-rate", type=float, default=2.0, help="churn actions per second")
    parser.add_argument("--relay-rate", type=float, default=100.0, help="signals per second")
    parser.add_argument("--flap-every", type=float, default=120, help="seconds between path flaps")
    parser.add_argument("--flap-for", type=float, default=20, help="seconds each flap cuts the direct paths")
    parser.add_argument("--hub-cut-every", type=float, default=120,
                        help="seconds between cuts of agent d's hub connection (0: none), halfway between flaps")
    parser.add_argument("--hub-cut-for", type=float, default=20, help="seconds each hub cut lasts")
    parser.add_argument("--sample-every", type=float, default=10)
    parser.add_argument("--out", default=os.path.join(ROOT, ".build-soak", time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())))
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
