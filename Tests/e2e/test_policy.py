"""End to end: an access policy enforced by the hub (who is introduced) and by the agents (nftables port filter).

Three agents on one LAN: a is a laptop, b a server, c a CI runner. The policy lets laptops reach servers on every port
and the CI runner reach servers on tcp/8080 only, so a-b and c-b are allowed pairs and a-c is forbidden.
"""
import os

from lab import lan, wait_for
from riftgate_lab import TOKEN_PATTERN, Agent, Hub, wg_show

POLICY = """# e2e policy
laptop -> server
ci -> server:tcp/8080
"""

LISTENER = """
import socket, threading
def serve(port):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(16)
    while True:
        connection, _ = listener.accept()
        connection.sendall(b"ok")
        connection.close()
for port in (22, 8080):
    threading.Thread(target=serve, args=(port,), daemon=True).start()
threading.Event().wait()
"""


def tagged_token(hub: Hub, label: str, tag: str) -> str:
    output = hub.admin("token", "create", "home", "--label", label, "--tag", tag)
    return TOKEN_PATTERN.search(output).group(0)


def connects(host, address: str, port: int, timeout: float = 3) -> bool:
    """Whether a TCP connection from `host` to address:port is accepted and answered within `timeout`."""
    probe = (f"import socket,sys; s=socket.create_connection(('{address}', {port}), timeout={timeout}); "
             "sys.exit(0 if s.recv(2) == b'ok' else 1)")
    return host.exec("python3", "-c", probe, check=False, timeout=timeout + 10).returncode == 0


def nft_tables(host) -> str:
    return host.exec("nft", "list", "tables", check=False, timeout=10).stdout


def test_policy_introduces_allowed_pairs_only_and_agents_filter_ports(lab, workdir):
    hosts = lan(lab, ("a", "b", "c"))
    hub = Hub(hosts["hub"], workdir)
    hub.create_network("home")
    tokens = {"a": tagged_token(hub, "laptop", "laptop"), "b": tagged_token(hub, "server", "server"),
              "c": tagged_token(hub, "ci", "ci")}
    policy_file = os.path.join(workdir, "policy.txt")
    with open(policy_file, "w") as handle:
        handle.write(POLICY)
    hub.admin("policy", "set", "home", policy_file)
    hub.start()
    agents = {role: Agent(hosts[role], workdir, interface=f"{lab.prefix}{role}") for role in ("a", "b", "c")}
    for role, agent in agents.items():
        agent.init(hub.url, "home", tokens[role])
        agent.start()
    hosts["b"].spawn("python3", "-c", LISTENER, log=os.path.join(workdir, "listener.log"))
    try:
        status = {role: agent.status() for role, agent in agents.items()}
        ip = {role: agents[role].overlay_ipv4() for role in agents}
        key = {role: status[role]["public_key"] for role in agents}

        # Allowed, every port: a reaches b (ping and both TCP ports); b may not open anything on a.
        wait_for(lambda: hosts["a"].ping(ip["b"]), timeout=60, interval=0.2, what="a (laptop) to ping b (server)")
        assert connects(hosts["a"], ip["b"], 22) and connects(hosts["a"], ip["b"], 8080)
        assert not hosts["b"].ping(ip["a"]), "the server may not open anything on a laptop (a's filter drops it)"

        # Allowed on tcp/8080 only: c reaches b:8080, not b:22 and not by ping.
        wait_for(lambda: connects(hosts["c"], ip["b"], 8080), timeout=60, interval=0.5, what="c (ci) to reach b:8080")
        assert not connects(hosts["c"], ip["b"], 22), "tcp/22 is not in c's allow_in: b's filter drops it"
        assert not hosts["c"].ping(ip["b"])
        assert "riftgate_" in nft_tables(hosts["b"]), "b filters inbound traffic from c"

        # Forbidden: a and c are never introduced, so neither has a WireGuard peer for the other.
        assert key["c"] not in wg_show(hosts["a"], agents["a"].interface)
        assert key["a"] not in wg_show(hosts["c"], agents["c"].interface)
        assert agents["a"].peer(key["c"]) is None and agents["c"].peer(key["a"]) is None
        assert not hosts["a"].ping(ip["c"]) and not hosts["c"].ping(ip["a"])

        # The admin CLI explains the decisions.
        check = hub.host.exec(*_admin_command(hub, "policy", "check", "home", "--from", "laptop-c", "--to", "laptop-b",
                                              "--port", "tcp/22"), check=False)
        assert check.returncode == 1 and "DENIED" in check.stdout and "ci -> server:tcp/8080" in check.stdout, check.stdout
        check = hub.host.exec(*_admin_command(hub, "policy", "check", "home", "--from", "laptop-a", "--to", "laptop-c"),
                              check=False)
        assert check.returncode == 1 and "does not introduce" in check.stdout, check.stdout

        # A live change: laptops may now reach the CI runner too; the hub introduces a and c without restarts.
        with open(policy_file, "a") as handle:
            handle.write("laptop -> ci\n")
        hub.admin("policy", "set", "home", policy_file)
        wait_for(lambda: hosts["a"].ping(ip["c"]), timeout=60, interval=0.2, what="a to ping c after the policy change")
        assert key["a"] in wg_show(hosts["c"], agents["c"].interface)

        # A table left by a crash: a (which filters b and c) is killed, its table stays behind ...
        assert "riftgate_" in nft_tables(hosts["a"])
        agents["a"].kill()
        assert "riftgate_" in nft_tables(hosts["a"]), "a crash leaves the table behind"
        # ... an agent that stops cleanly removes its own: c (which filters b) goes down ...
        assert "riftgate_" in nft_tables(hosts["c"])
        agents["c"].down()
        assert "riftgate_" not in nft_tables(hosts["c"]), "c's nftables table is removed on down"
        # ... and the crashed agent removes the stale table when it starts again (here with no policy left at all).
        hub.admin("policy", "clear", "home")
        agents["a"].start()
        wait_for(lambda: "riftgate_" not in nft_tables(hosts["a"]), timeout=30, what="the restarted agent a to remove the stale table")
        wait_for(lambda: hosts["b"].ping(ip["a"]), timeout=60, interval=0.2, what="b to ping a once the policy is cleared")
    except Exception:
        for role, agent in agents.items():
            print(f"--- agent {role} log ---\n" + agent.log()[-3000:])
        print("--- hub log ---\n" + hub.log()[-3000:])
        raise

    agents["b"].down()
    agents["a"].down()


def _admin_command(hub: Hub, *args: str) -> list:
    from riftgate_lab import binary
    return [binary("riftgate-hub"), *args, "--state-dir", hub.state_dir]
