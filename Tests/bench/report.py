"""Renders benchmark results (the dict bench.py writes as JSON) as Markdown tables, with the issue's targets."""
from __future__ import annotations

# Issue 12: the hand-over (server-reflexive) path ≥ 0.95 of hand-configured WireGuard, a relayed path ≥ 0.75.
TUNNEL_TARGETS = {"lan": 0.95, "home-nats": 0.95, "hard-nats": 0.75, "symmetric-and-cone": 0.75}
CONNECT_TARGETS = {"lan": 1.0, "home-nats": 2.0, "hard-nats": 3.0}
HUB_TARGET_P99_MS, HUB_TARGET_RATE, HUB_TARGET_KIB = 5.0, 5000.0, 10.0
RECONNECT_TARGET_S = 5.0


def table(header: list[str], rows: list[list]) -> str:
    def cell(value):
        return "—" if value is None else str(value)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def verdict(value, target, higher_is_better: bool) -> str:
    if value is None or target is None:
        return ""
    met = value >= target if higher_is_better else value <= target
    return "meets" if met else "misses"


def section_problem(section: dict) -> str | None:
    if "error" in section:
        return f"failed: {section['error']}\n"
    if "skipped" in section:
        return f"skipped: {section['skipped']}\n"
    return None


def tunnel(section: dict) -> str:
    buffer = section.get("coturn_socket_buffer")
    out = ("\ncoturn (relayed topologies): " + (f"UDP socket buffers raised to {buffer} bytes, as deploy/provision-hub.sh "
           "--turn sets it up" if buffer else "as Debian ships it (4.6.1: 64 KiB relay ports)") + "\n") if buffer is not None else ""
    for name, topology in section.get("topologies", {}).items():
        out += f"\n**{name}**"
        if "error" in topology:
            out += f": failed: {topology['error']}\n"
            continue
        path = topology.get("riftgate_path", {})
        at_b = topology.get("riftgate_path_at_b", {})
        b_mode = f"; at B {at_b.get('path_mode')} from {at_b.get('local_candidate')}" if at_b else ""
        out += (f" (riftgate path: {path.get('path_type')}/{path.get('path_mode')}, {path.get('local_candidate')} → "
                f"{path.get('remote_candidate')}{b_mode}; MTU {topology.get('mtu')} on both tunnels)\n\n")
        if topology.get("path_changed_during_run"):
            after = topology.get("riftgate_path_after", {})
            out += (f"WARNING: riftgate's path changed during the run, to {after.get('path_type')}/{after.get('path_mode')} "
                    f"{after.get('local_candidate')} → {after.get('remote_candidate')}\n\n")
        target = TUNNEL_TARGETS.get(name)
        rows = []
        for test, entry in topology.get("throughput", {}).items():
            ratio = entry.get("ratio")
            rows.append([test, entry.get("riftgate_mbit_s"), entry.get("wireguard_go_mbit_s"), ratio,
                         f"≥ {target} {verdict(ratio, target, True)}" if target else ""])
        out += table(["iperf3", "riftgate Mbit/s", "wireguard-go Mbit/s", "ratio", "target"], rows)
        rtt = topology.get("rtt", {})
        out += "\n" + table(["ping RTT", "p50 ms", "p90 ms", "min ms"],
                            [[kind, rtt.get(kind, {}).get("p50_ms"), rtt.get(kind, {}).get("p90_ms"), rtt.get(kind, {}).get("min_ms")]
                             for kind in ("underlay", "wireguard_go", "riftgate")])
        out += f"\n(underlay: A → {topology.get('underlay_rtt_target')})\n"
        for key, direction in (("profile", "A to B"), ("profile_b_to_a", "B to A")):
            profile = topology.get(key)
            if profile:
                out += (f"\nCPU by thread while riftgate carries one TCP stream {direction} (perf, all CPUs): " + ", ".join(
                    f"{row.get('comm')} {row['percent']} %" for row in profile.get("by_thread", [])[:8]) + "\n")
    return out


def connect(section: dict) -> str:
    rows = []
    for name, topology in section.get("topologies", {}).items():
        if "error" in topology:
            rows.append([name, "failed: " + topology["error"][:80]] + [None] * 6)
            continue
        target = CONNECT_TARGETS.get(name)
        rows.append([name, topology["runs"], topology["failures"], topology["p50_s"], topology["p95_s"], topology["max_s"],
                     ", ".join(f"{path} ×{count}" for path, count in topology.get("paths", {}).items()),
                     f"≤ {target} s: p50 {verdict(topology['p50_s'], target, False)}, p95 {verdict(topology['p95_s'], target, False)}"
                     if target else ""])
    return table(["topology", "runs", "failed", "p50 s", "p95 s", "max s", "path", "target"], rows)


def hub(section: dict) -> str:
    out = ""
    for run in section.get("runs", []):
        storm, idle = run["join_storm"], run["idle"]
        out += (f"\n**N = {run['agents']}** ({run['networks']} networks of {run['network_size']}): "
                f"{storm['joined']} joined, {storm['failed']} failed; all welcomed in {storm['all_welcomed_s']} s, "
                f"converged in {storm['converged_s']} s ({storm['joins_per_s']} joins/s; hub CPU {storm['hub_cpu_s']} s, "
                f"load generator CPU {storm['loadgen_cpu_s']} s). Idle: {idle['hub_kib_per_agent']} KiB per agent "
                f"(target ≤ {HUB_TARGET_KIB}: {verdict(idle['hub_kib_per_agent'], HUB_TARGET_KIB, False)}), hub RSS "
                f"{idle['hub_rss_kib']} KiB, hub CPU {idle['hub_cpu_percent']} % over {idle['window_s']} s.\n\n")
        rows = []
        for step in run.get("relay", []):
            latency = step["latency_ms"]
            note = ""
            if step["offered_per_s"] == HUB_TARGET_RATE:
                note = f"p99 ≤ {HUB_TARGET_P99_MS} ms: {verdict(latency['p99'], HUB_TARGET_P99_MS, False)}"
            rows.append([int(step["offered_per_s"]), step["delivered_per_s"], latency["p50"], latency["p99"], latency["max"],
                         step["hub_cpu_percent"], step["loadgen_cpu_percent"], sum(step["errors"].values()), note])
        out += table(["offered msg/s", "delivered msg/s", "p50 ms", "p99 ms", "max ms", "hub CPU %", "loadgen CPU %",
                      "errors", "target"], rows)
    profile = section.get("profile")
    if profile:
        out += (f"\nHub profile at N = {profile['agents']} (perf cpu-clock, self time, separate run): " + ", ".join(
            f"{row.get('symbol')} ({row.get('dso')}) {row['percent']} %" for row in profile.get("top", [])[:8]) + "\n")
    return out


def reconnect(section: dict) -> str:
    runs = [run["reconnect"] for run in section.get("runs", [])]
    if not runs:
        return "no runs\n"
    out = (f"N = {section['agents']} agents ({section['agents'] // section['network_size']} networks of "
           f"{section['network_size']}), hub SIGKILLed, down for {section['outage_s']} s, restarted on the same port and "
           f"state; every agent follows the policy below. Times from the restarted hub's listening line.\n\n")

    def delays(run, *keys):
        return " / ".join(str(run["reconnect_delay_ms"][key]) for key in keys)

    def relay(run):
        step = run.get("relay")
        if not step:
            return None
        if "skipped" in step:
            return "skipped: " + step["skipped"]
        latency = step["latency_ms"]
        return (f"{latency['p50']} / {latency['p99']} ms ({step['delivered']}/{step['sent']} delivered, "
                f"{step['pairs']} pairs, hub CPU {step['hub_cpu_percent']} %)")

    def failures(counts):
        return ", ".join(f"{reason} ×{count}" for reason, count in counts.items()) or "none"

    rows = [
        ["reconnect step (initial → cap, ms)", *(f"{r['backoff_ms']['initial']} → {r['backoff_ms']['maximum_step']}" for r in runs)],
        ["agents back / not back", *(f"{r['back']} / {r['not_back']}" for r in runs)],
        [f"last agent welcomed after the hub answered (target ≤ {RECONNECT_TARGET_S} s)",
         *(f"**{r['last_welcome_after_listening_s']} s** {verdict(r['last_welcome_after_listening_s'], RECONNECT_TARGET_S, False)}"
           for r in runs)],
        ["reconnect delay p50 / p95 / p99 / max, ms", *(delays(r, "p50", "p95", "p99", "max") for r in runs)],
        ["agents back within 5 s", *(r["back_within_5s"] for r in runs)],
        ["the successful attempt, connect to welcome, p50 / p95 / p99 / max, ms", *(
            " / ".join(str(r.get("successful_attempt_ms", {}).get(key)) for key in ("p50", "p95", "p99", "max")) for r in runs)],
        ["first connection accepted after listening, ms", *(r["first_accept_after_listening_ms"] for r in runs)],
        ["connections accepted per s, first 5 s: mean / peak 250 ms", *(f"{r['accepted_per_s_first_5s']} / {r['peak_accepted_per_s']}" for r in runs)],
        ["failed attempts after the restart", *(failures(r["failed_attempts_after_restart"]) for r in runs)],
        ["connect attempts per s against the dead hub", *(r["attempts_during_outage_per_s"] for r in runs)],
        ["hub CPU until every agent was back: s (% of one CPU)",
         *(f"{r['hub'].get('cpu_s_until_all_back')} ({r['hub'].get('cpu_percent_until_all_back')} %)" for r in runs)],
        ["hub CPU per second after the restart, %", *(", ".join(str(v) for v in r["hub"].get("cpu_percent_per_s", [])[:10])
                                                     for r in runs)],
        ["TCP listen overflows / SYN retransmissions (machine)", *(
            f"{r.get('tcp_counters', {}).get('ListenOverflows')} / {r.get('tcp_counters', {}).get('TCPSynRetrans')}" for r in runs)],
        ["hub RSS, KiB: before the kill / restart / peak after", *(
            f"{r['hub'].get('rss_before_kill_kib')} / {r['hub'].get('rss_at_restart_kib')} / {r['hub'].get('rss_peak_kib')}" for r in runs)],
        ["load generator CPU until every agent was back", *(f"{r['loadgen_cpu_percent_until_all_back']} %" for r in runs)],
        [f"relay p50 / p99 at {section.get('relay_rate')} msg/s from +{section.get('relay_after_s')} s", *(relay(r) for r in runs)],
        ["hub warnings/errors logged", *(r.get("hub_log_problems", {}).get("lines") for r in runs)],
    ]
    out += table(["", *(f"{r['policy']} policy" for r in runs)], rows)
    bin_ms = runs[0]["bin_ms"]
    histogram = [[f"{index * bin_ms / 1000:.2f}", *(f"{r['accepted_per_bin'][index]} / {r['welcomed_per_bin'][index]}" for r in runs)]
                 for index in range(len(runs[0]["accepted_per_bin"]))]
    out += (f"\nConnections accepted / agents welcomed per {bin_ms} ms after the hub answered:\n\n"
            + table(["from s", *(f"{r['policy']}" for r in runs)], histogram))
    for r in runs:
        for problem in r.get("hub_log_problems", {}).get("top", []):
            out += f"\n{r['policy']}: hub logged ×{problem['count']}: {problem['message']}"
    for policy, top in section.get("profiles", {}).items():
        out += (f"\n\nRestarted hub's profile, {policy} policy (perf cpu-clock, self time, separate run): " + ", ".join(
            f"{row.get('symbol')} ({row.get('dso')}) {row['percent']} %" for row in top[:8]))
    return out + "\n"


def datapath(section: dict) -> str:
    rows = []
    for load in section.get("loads", []):
        top = ", ".join(f"{row['function'][:60]} {row['instructions']}" for row in load["top_per_packet"][:4])
        rows.append([load["burst"], load["instructions_per_packet"], f"{load['range_per_packet'][0]}–{load['range_per_packet'][1]}",
                     load["calls_per_packet"].get("CRiftLinux_recvmmsg"), top])
    return table(["burst", "instructions/packet", "range", "recvmmsg calls/packet", "top per-packet costs"], rows)


def memory(section: dict) -> str:
    targets = section.get("targets", {})
    # Older results measured one build and kept its figures at the top level.
    builds = section.get("builds") or {"dynamic": section}
    rows = []
    for build, figures in builds.items():
        rows += [[build, stage["agents"], stage["peers_each"], f"{stage['median_rss_kib'] / 1024:.1f}",
                  f"{stage.get('median_rss_all_kib', stage['median_rss_kib']) / 1024:.1f}",
                  f"{stage['max_rss_kib'] / 1024:.1f}", f"{stage['median_pss_kib'] / 1024:.1f}",
                  f"{stage['median_private_kib'] / 1024:.1f}", stage["median_threads"],
                  f"{stage['median_wireguard_go_rss_kib'] / 1024:.1f}"] for stage in figures.get("stages", [])]
    out = table(["agent build", "agents", "peers each", "agent RSS median MiB (seasoned)", "all agents", "max", "PSS",
                 "private", "threads", "wireguard-go child RSS MiB"], rows)
    out += ("\nSeasoned: the agents up since the first stage, whose peers joined after they gave back their start-up file "
            "pages (10 s after start); per added peer pairs each of them from the middle stage to the full mesh.\n")
    for build, figures in builds.items():
        growth = figures.get("per_added_peer", {})
        spread = growth.get("rss_range_kib")
        out += (f"\n{build}: per added peer {figures.get('per_added_peer_kib')} KiB RSS"
                + (f" (median of {growth.get('agents_paired')} seasoned agents, each against itself; from {spread[0]} to "
                   f"{spread[1]}; private {growth.get('private_kib')} KiB)" if spread else "")
                + f"; {figures.get('libraries_mapped', '?')} shared libraries mapped"
                + (f"; Foundation mapped: {', '.join(figures['foundation_mapped'])}" if figures.get("foundation_mapped")
                   else "; no Foundation library mapped" if "foundation_mapped" in figures else "") + ".\n")
    out += (f"\nTargets: per added peer ≤ {targets.get('per_added_peer_kib')} KiB; with 10 peers ≤ "
            f"{targets.get('rss_10_peers_kib', 0) / 1024:.0f} MiB.\n")
    for build, figures in builds.items():
        out += f"\nWhere one agent's memory is, {build} build (full mesh, /proc/PID/smaps):\n\n"
        out += table(["mapping", "mappings", "RSS KiB", "private KiB"],
                     [[row["mapping"], row["count"], row["rss_kib"], row["private_kib"]]
                      for row in figures.get("breakdown_first_agent", [])[:15]])
    return out + "\n"


def roaming(section: dict) -> str:
    targets = section.get("targets", {})
    rows = []
    for name, entry in section.get("scenarios", {}).items():
        rows.append([name, entry["hub_median_s"], f"{min(entry['hub_s'])}–{max(entry['hub_s'])}",
                     verdict(entry["hub_median_s"], targets.get("hub_s"), False), entry["tunnel_median_s"],
                     f"{min(entry['tunnel_s'])}–{max(entry['tunnel_s'])}",
                     verdict(entry["tunnel_median_s"], targets.get("tunnel_s"), False)])
    out = table(["scenario", "hub back (median s)", "range", "vs 1 s", "tunnel back (median s)", "range", "vs 2 s"], rows)
    for flap in section.get("flapping", []):
        out += (f"\nFlapping link (30 s): {flap['immediate_reconnects']} immediate hub reconnects (bound 9), "
                f"{flap['connection_attempts']} connection attempts.")
    for failure in section.get("failures", []):
        out += f"\n\nA run failed: {failure[-400:]}"
    return out + "\n"


def failover(section: dict) -> str:
    targets = section.get("targets", {})
    outage = section.get("outage_s", [])
    busy = section.get("outage_under_traffic_s", [])
    rows = [["outage after a cut as pings start (longest gap between replies)", section.get("outage_median_s"),
             f"{min(outage)}–{max(outage)}" if outage else "-", section.get("baseline_before_s"),
             verdict(section.get("outage_median_s"), targets.get("outage_s"), False)],
            ["outage after a cut under pings (1.5 s of them before it)", section.get("outage_under_traffic_median_s"),
             f"{min(busy)}–{max(busy)}" if busy else "-", "",
             verdict(section.get("outage_under_traffic_median_s"), targets.get("outage_s"), False)],
            ["cut -> relay carrying pings", section.get("to_relay_median_s"), ", ".join(map(str, section.get("to_relay_s", []))),
             "", ""],
            ["pings lost moving back off the relay", ", ".join(map(str, section.get("lost_back", []))), "", "", "target 0"]]
    out = table(["figure", "median (s)", "runs", "before", "vs target"], rows)
    for failure in section.get("failures", []):
        out += f"\n\nA run failed: {failure[-400:]}"
    return out + "\n"


def cluster(section: dict) -> str:
    out = ""
    relay = section.get("relay")
    if relay:
        join = relay["join"]
        out += (f"**Relay, same hub vs across hubs** ({relay['hubs']} hubs, one PostgreSQL, 3 NATS nodes; "
                f"{join['joined']} agents in networks of {relay['network_size']}, half with every member on one hub, half "
                f"spread so every recipient is on another hub than its sender; {relay['rounds']} alternating rounds of "
                f"{relay['step_seconds']} s per rate, medians over rounds):\n\n")
        rows = [[int(row["offered_per_s"]), row["same_p50_ms"], row["cross_p50_ms"], row["ratio_p50"], row["same_p99_ms"],
                 row["cross_p99_ms"], row["ratio_p99"], row["same_delivered"], row["cross_delivered"],
                 row["same_hub_cpu_percent"], row["cross_hub_cpu_percent"], row["cross_nats_out_per_signal"]]
                for row in relay["comparison"]]
        out += table(["offered msg/s", "same p50 ms", "cross p50 ms", "ratio", "same p99 ms", "cross p99 ms", "ratio",
                      "same delivered", "cross delivered", "3 hubs' CPU % same", "3 hubs' CPU % cross",
                      "NATS out msgs per cross signal"], rows)
        steps = [step for kind in ("same", "cross") for step in relay["steps"][kind]]
        out += "\n" + table(["kind", "round", "offered", "p50 ms", "p99 ms", "max ms", "hubs CPU %", "NATS CPU %",
                             "PG statements/signal", "NATS in/out per signal"],
                            [[step["kind"] + (" (during a last-seen flush: "
                                              f"{step['last_seen_updates']} UPDATEs)" if step.get("during_last_seen_flush") else ""),
                              step["round"], int(step["offered_per_s"]), step["latency_ms"]["p50"],
                              step["latency_ms"]["p99"], step["latency_ms"]["max"], step["hub_cpu_percent_each"],
                              step["nats_cpu_percent"], step["costs_per_signal"]["pg_statements"],
                              f"{step['costs_per_signal']['nats_in_msgs']} / {step['costs_per_signal']['nats_out_msgs']}"]
                             for step in steps])
    for key, title in (("capacity", "Agents held by the cluster"),
                       ("single", "Same-run baseline: one hub on PostgreSQL, no NATS, one member's share")):
        if section.get(key):
            out += capacity_block(section[key], title)
    return out


def capacity_block(capacity: dict, title: str) -> str:
    join, idle, cost = capacity["join"], capacity["idle"], capacity["costs_per_join"]
    cpu = capacity["join_cpu_s"]
    out = (f"\n**{title}** ({capacity['hubs']} hub(s), networks of {capacity['network_size']}"
           f"{', each spread over the hubs' if capacity['hubs'] > 1 else ''}; {join['load_generators']} load generator "
           f"processes): {join['joined']} of {join['agents']} welcomed ({join['failed']} failed: "
           f"{join['failure_reasons'] or 'none'}), per hub {join['agents_per_hub']}; all welcomed in "
           f"{join['all_welcomed_s']} s ({join['joins_per_s']} joins/s), converged in {join['converged_s']} s; worst "
           f"process's join p99 {join['join_latency_p99_ms_worst_process']} ms. CPU during the storm, s: hubs "
           f"{cpu['hubs']}, PostgreSQL {cpu['postgres']}, NATS {cpu['nats']}, load generators {cpu['load_generators']}. "
           f"PostgreSQL sessions during the storm (mean of samples): {join.get('postgres_sessions_sampled')}.\n\n")
    out += table([f"idle (over {idle['window_s']} s)", "value"], [
        ["hub RSS, KiB", idle["hub_rss_kib"]], ["hub KiB per idle agent (own agents)", idle["hub_kib_per_agent"]],
        ["hub CPU %", idle["hub_cpu_percent"]], ["PostgreSQL CPU % (all its processes)", idle["postgres_cpu_percent"]],
        ["NATS CPU % (3 nodes)", idle["nats_cpu_percent"]], ["NATS RSS KiB", idle["nats_rss_kib"]],
        ["NATS subscriptions", idle["nats_subscriptions"]], ["load generators CPU %", idle["loadgen_cpu_percent"]],
        ["last-seen UPDATEs in the window (the hubs' once-a-minute flush)", idle.get("last_seen_updates")]])
    out += "\n" + table(["per join (background subtracted)", "value"], [
        ["PostgreSQL statements", cost["pg_statements"]], ["explicit transactions (BEGIN)", cost["pg_explicit_transactions"]],
        ["xact_commit (pg_stat_database)", cost["pg_xact_commit"]],
        ["NATS in msgs (3 nodes, route hops counted)", cost["nats_in_msgs"]], ["NATS out msgs", cost["nats_out_msgs"]],
        ["NATS in bytes", cost["nats_in_bytes"]]])
    probe = capacity.get("last_seen_probe")
    if probe and not probe.get("skipped"):
        latency = probe["latency_ms"]
        out += (f"\nRelay at {int(probe['offered_per_s'])} msg/s for {probe['seconds']} s, spanning every hub's "
                f"once-a-minute last-seen flush ({probe['last_seen_updates']} `UPDATE peers SET last_seen_at` in the "
                f"window): {probe['delivered']}/{probe['sent']} delivered, p50 {latency['p50']} ms, p99 {latency['p99']} "
                f"ms, max {latency['max']} ms; PostgreSQL sessions (mean of samples): {probe['postgres_sessions_sampled']}.\n")
    rejoin = capacity.get("rejoin")
    if rejoin:
        cost = rejoin["costs_per_join"]
        out += (f"\nEvery agent left, then all joined again with the same keys (known peers): {rejoin['joined']} of "
                f"{rejoin['agents']} welcomed in {rejoin['all_welcomed_s']} s ({rejoin['joins_per_s']} joins/s, worst "
                f"process's join p99 {rejoin['join_latency_p99_ms_worst_process']} ms); CPU, s: {rejoin['cpu_s']}; per "
                f"join {cost['pg_statements']} PostgreSQL statements, {cost['pg_explicit_transactions']} explicit "
                f"transactions, NATS in/out {cost['nats_in_msgs']} / {cost['nats_out_msgs']}; PostgreSQL sessions "
                f"(mean of samples): {rejoin['postgres_sessions_sampled']}. Before it, every agent disconnected: "
                f"the hubs had processed all departures after {rejoin['departures']['processed_s']} s "
                f"({rejoin['departures']['pg_statements']} PostgreSQL statements, CPU {rejoin['departures']['cpu_s']}).\n")
    out += "\nStatements during the join storm: " + "; ".join(
        f"{calls} × `{query[:90]}`" for query, calls in list(capacity.get("join_statements", {}).items())[:16]) + "\n"
    return out


def markdown_report(results: dict) -> str:
    machine = results.get("machine", {})
    out = (f"# riftgate benchmark results ({results.get('started_utc')})\n\n"
           f"Machine: {machine.get('cpu')}, {machine.get('nproc')} CPUs, {machine.get('memory_gib')} GiB, kernel "
           f"{machine.get('kernel')}, {machine.get('virtualization')}. Source {results.get('source')}, binaries "
           f"{results.get('binaries')}."
           f"{' QUICK RUN (fewer rounds, small N): not figures to publish.' if results.get('quick') else ''}\n")
    renderers = {"tunnel": ("Tunnel throughput and RTT", tunnel), "connect": ("Connect time", connect),
                 "hub": ("Hub capacity", hub), "reconnect": ("Reconnect after a hub outage", reconnect),
                 "datapath": ("Data-path cost (callgrind)", datapath),
                 "roaming": ("Roaming: network changes and resume (issue 19)", roaming),
                 "memory": ("Agent memory, full mesh", memory),
                 "failover": ("Failover when the selected path dies (issue 12 item 3)", failover),
                 "cluster": ("Hub cluster: cross-hub relay, agents held, cost per join (issue 14 item 6)", cluster)}
    for name, section in results.get("sections", {}).items():
        title, render = renderers[name]
        out += f"\n## {title}\n\n"
        problem = section_problem(section)
        out += problem if problem else render(section)
    return out
