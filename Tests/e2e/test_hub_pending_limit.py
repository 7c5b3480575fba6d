"""One host opening connections that never finish their WebSocket upgrade holds at most 256 of the hub's descriptors
(its address' share, AcceptGuard); the rest are closed as soon as they are accepted, and another host still joins.
The open-file limit itself (loopback, no namespaces) is tested in Tests/integration/test_hub_connection_limits.py."""
import json
import os
import sys
import urllib.request  # noqa: F401 (used by the probe run inside the hub's namespace)

from lab import lan, wait_for
from riftgate_lab import Hub

HERE = os.path.dirname(os.path.abspath(__file__))
PENDING_PER_ADDRESS = 256  # HubService.pendingConnectionsPerAddress
FLOOD = 300

JOIN = """
import sys, time
sys.path[:0] = [{integration!r}, {protoclient!r}]
from rgclient import Agent
class Hub:
    ssl_context = None
    def url(self, network): return "ws://192.0.2.1:{port}/v1/networks/" + network
welcome = Agent(Hub(), "home", {token!r}, name="b").join()
print(welcome["type"] if "type" in welcome else "welcome")
"""


def metrics(hub_host):
    probe = "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:9090/metrics', timeout=5).read().decode())"
    text = hub_host.exec("python3", "-c", probe).stdout
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line and line[0] != "#"}


def test_one_host_holds_at_most_its_share_of_pending_connections_and_others_join(lab, workdir):
    hosts = lan(lab)
    hub = Hub(hosts["hub"], workdir)
    hub.create_network("home")
    token = hub.create_token("home", "limits")
    hub.start("--admin-listen", "127.0.0.1:9090")

    report = os.path.join(workdir, "flood.log")
    hosts["a"].spawn("python3", os.path.join(HERE, "idle_flood.py"), "192.0.2.1", str(hub.port), str(FLOOD), "30",
                     log=report)
    line = wait_for(lambda: open(report).read().strip(), timeout=20, what="the flood's report")
    counts = json.loads(line.splitlines()[0])
    assert counts == {"closed": FLOOD - PENDING_PER_ADDRESS, "open": PENDING_PER_ADDRESS}, counts

    # While host a holds its share, host b joins.
    script = JOIN.format(integration=os.path.join(HERE, "..", "integration"),
                         protoclient=os.path.join(HERE, "..", "protoclient"), port=hub.port, token=token)
    joined = hosts["b"].exec(sys.executable, "-c", script, timeout=20)
    assert "welcome" in joined.stdout, joined.stdout + joined.stderr

    values = metrics(hosts["hub"])
    assert values['riftgate_hub_connections_refused_total{reason="pending_per_address"}'] == FLOOD - PENDING_PER_ADDRESS
    assert values['riftgate_hub_connections_refused_total{reason="capacity"}'] == 0
    refusal_lines = [line for line in hub.log().splitlines() if "have not finished their WebSocket upgrade" in line]
    assert len(refusal_lines) == 1 and "from=192.0.2.10" in refusal_lines[0], refusal_lines
