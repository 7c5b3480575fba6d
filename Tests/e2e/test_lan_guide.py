"""docs/testing-lan.md, followed command by command: two simulated laptops on one LAN, the hub run by hand on the
first one (plain ws://, as root), `riftgate init` and `riftgate up` on both, then the guide's checks.

The only departure from the guide: interface names are unique per test run (every namespace shares
/var/run/wireguard), where the guide keeps the default riftgate0.
"""
import os

from lab import lan, wait_for
from riftgate_lab import binary
from machines import dump_logs, joined, machines, ping, status, status_json  # noqa: F401 (machines: fixture)

HUB = "ws://192.0.2.10:8443"


def test_two_laptops_guide_hub_on_the_first_laptop(lab, workdir, machines):  # noqa: F811
    laptop1, laptop2 = machines["a"], machines["b"]
    for laptop in (laptop1, laptop2):
        laptop.run("install", "-m", "0755", binary("riftgate"), binary("riftgate-hub"), "/usr/local/bin/")

    # 2. The hub on laptop 1, in the foreground of its own terminal; laptop 2 checks that it can reach it.
    laptop1.spawn("riftgate-hub", "serve", "--listen", "0.0.0.0:8443", log=os.path.join(workdir, "hub.log"))
    wait_for(lambda: laptop2.run("curl", "-fsS", "--max-time", "1", f"{HUB.replace('ws:', 'http:')}/healthz",
                                 check=False).returncode == 0, 20, what="laptop 2 to reach the hub's /healthz")
    laptop1.run("riftgate-hub", "network", "create", "home")
    tokens = {}
    for name in ("laptop1", "laptop2"):
        output = laptop1.run("riftgate-hub", "token", "create", "home", "--label", name).stdout
        tokens[name] = next(word for word in output.split() if word.startswith("rgt_"))

    # 3. The agents.
    for laptop, name, suffix in ((laptop1, "laptop1", "a"), (laptop2, "laptop2", "b")):
        laptop.run("riftgate", "init", "--hub", HUB, "--network", "home", "--name", name, "--token", "-",
                   "--interface", f"{lab.prefix}{suffix}", input=tokens[name] + "\n")
        laptop.spawn("riftgate", "up", log=os.path.join(workdir, f"agent-{name}.log"))

    # 4. Check: status (--verbose) as the guide shows it, then pings over IPv4 and IPv6.
    try:
        self1, self2 = joined(laptop1), joined(laptop2)
        wait_for(lambda: ping(laptop2, self1["ipv4"]), 40, what="laptop 2 to ping laptop 1 through the tunnel")
        text = wait_for(lambda: (t := status(laptop2, "--verbose").stdout) and "state connected" in t and t, 20,
                        what="laptop 2's status to show laptop 1 connected")
        assert f"hub {HUB}/v1/networks/home: connected" in text, text
        assert "peer laptop1 " in text and "path host direct" in text, text
        assert ping(laptop1, self2["ipv4"]) and ping(laptop2, self1["ipv6"])
        assert "laptop2" in laptop1.run("riftgate-hub", "peer", "list", "home").stdout
    except Exception:
        dump_logs(workdir, machines)
        raise

    # Stopping an agent: the other laptop drops it within seconds.
    laptop2.run("riftgate", "down")
    wait_for(lambda: not [p for p in status_json(laptop1)["peers"] if p["name"] == "laptop2"], 20,
             what="laptop 1 to drop laptop 2 after it stopped")
    laptop1.run("riftgate", "down")
