"""A 3-node nats-server cluster on loopback for the hub-cluster integration tests (modelled on
Tests/RiftClusterTests/Support/NATSCluster.swift): free ports, one configuration file per node with the others as
routes, started once each node's /routez shows its routes. Every wait is bounded. With `netns` the nodes run (and listen
on 127.0.0.1) inside that network namespace, for hubs that run there (Tests/e2e/test_hub_failover.py)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

SERVER = shutil.which("nats-server") or ("/usr/sbin/nats-server" if os.access("/usr/sbin/nats-server", os.X_OK) else None)
MISSING_REASON = "nats-server is not installed: deploy/install-deps.sh installs the nats-server package"


def free_ports(count):
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class NATSCluster:
    """`count` nats-server processes routed to each other; `urls` for `riftgate-hub serve --nats`. With
    `advertise=False` the nodes do not tell clients about each other (`no_advertise`), so a client knows only the
    URLs it was given."""

    def __init__(self, count=3, timeout=30, netns=None, advertise=True):
        assert SERVER, MISSING_REASON
        self.inside = ["ip", "netns", "exec", netns] if netns else []
        self.directory = tempfile.mkdtemp(prefix="riftgate-nats-")
        ports = free_ports(count * 3)
        self.nodes = []
        cluster_ports = [ports[i * 3 + 1] for i in range(count)]
        for index in range(count):
            client, cluster, monitor = ports[index * 3:index * 3 + 3]
            routes = "\n    ".join(f"nats-route://127.0.0.1:{port}" for i, port in enumerate(cluster_ports) if i != index)
            path = os.path.join(self.directory, f"n{index + 1}.conf")
            with open(path, "w") as f:
                f.write(f"server_name: n{index + 1}\nlisten: 127.0.0.1:{client}\nhttp: 127.0.0.1:{monitor}\n"
                        f"cluster {{\n  name: riftgate-test\n  listen: 127.0.0.1:{cluster}\n"
                        f"  no_advertise: {'false' if advertise else 'true'}\n  routes = [\n    {routes}\n  ]\n}}\n")
            log = open(os.path.join(self.directory, f"n{index + 1}.log"), "w")
            process = subprocess.Popen([*self.inside, SERVER, "-c", path], stdout=log, stderr=subprocess.STDOUT)
            self.nodes.append({"client": client, "monitor": monitor, "process": process, "log": log})
        self._wait_for_routes(timeout)

    @property
    def urls(self):
        return ",".join(f"nats://127.0.0.1:{node['client']}" for node in self.nodes)

    def _routes(self, node):
        url = f"http://127.0.0.1:{node['monitor']}/routez"
        if self.inside:
            probe = f"import json,urllib.request;print(json.load(urllib.request.urlopen('{url}', timeout=2)).get('num_routes', 0))"
            try:
                result = subprocess.run([*self.inside, "python3", "-c", probe], capture_output=True, text=True, timeout=5)
            except subprocess.TimeoutExpired:
                return None
            return int(result.stdout) if result.returncode == 0 and result.stdout.strip().isdigit() else None
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.load(response).get("num_routes", 0)
        except OSError:
            return None

    def _wait_for_routes(self, timeout):
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            while (self._routes(node) or 0) < len(self.nodes) - 1:
                if node["process"].poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"NATS cluster routes not up within {timeout} s (logs in {self.directory})")
                time.sleep(0.1)

    def stop(self):
        for node in self.nodes:
            if node["process"].poll() is None:
                node["process"].send_signal(signal.SIGTERM)
        for node in self.nodes:
            try:
                node["process"].wait(10)
            except subprocess.TimeoutExpired:
                node["process"].kill()
                node["process"].wait(5)
            node["log"].close()
        shutil.rmtree(self.directory, ignore_errors=True)
