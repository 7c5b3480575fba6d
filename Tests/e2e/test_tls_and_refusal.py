"""The agent over wss:// (the hub's certificate verified against a CA file), and permanent refusals: an agent whose
token is revoked, or that has no CA to verify the hub with, says so clearly."""
import os
import re
import subprocess

from lab import lan, run, wait_for
from riftgate_lab import Agent, Hub, binary


def make_certificate(directory: str, ip: str) -> tuple[str, str, str]:
    """A throwaway CA and a server certificate for `ip`; returns (ca, cert, key) paths."""
    ca_key, ca = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    key, csr, cert = (os.path.join(directory, name) for name in ("hub.key", "hub.csr", "hub.pem"))
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("openssl", "req", "-x509", *curve, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=riftgate test CA")
    run("openssl", "req", *curve, "-keyout", key, "-out", csr, "-subj", "/CN=hub")
    extensions = os.path.join(directory, "san.ext")
    with open(extensions, "w") as handle:
        handle.write(f"subjectAltName=IP:{ip}\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
        "-days", "2", "-extfile", extensions)
    return ca, cert, key


class TLSHub(Hub):
    """A hub serving wss://: its health check speaks HTTPS (unverified: it only asks whether the hub is up)."""

    def healthy(self) -> bool:
        probe = ("import ssl,urllib.request,sys;"
                 f"sys.exit(0 if urllib.request.urlopen('https://{self.host.address}:{self.port}/healthz', timeout=1,"
                 " context=ssl._create_unverified_context()).status == 200 else 1)")
        return self.host.exec("python3", "-c", probe, check=False, timeout=5).returncode == 0


def init_agent(agent: Agent, hub_url: str, token: str, *extra: str) -> None:
    """`riftgate init` as a user types it, with the control socket moved into the test's directory."""
    run(binary("riftgate"), "init", "--config", agent.config, "--hub", hub_url, "--network", "home", "--token", token,
        "--name", f"laptop-{agent.host.name}", "--interface", agent.interface, "--force", *extra)
    text = re.sub(r'control_socket = ".*"', f'control_socket = "{agent.control_socket}"', open(agent.config).read())
    with open(agent.config, "w") as handle:
        handle.write(text)


def test_agents_join_over_tls_verified_with_a_ca_file(lab, workdir):
    hosts = lan(lab)
    ca, cert, key = make_certificate(workdir, "192.0.2.1")
    hub = TLSHub(hosts["hub"], workdir)
    hub.create_network("home")
    token = hub.create_token("home", "tls")
    hub.start("--tls-cert", cert, "--tls-key", key)
    wss = f"wss://192.0.2.1:{hub.port}"

    a, b = Agent(hosts["a"], workdir, f"{lab.prefix}a"), Agent(hosts["b"], workdir, f"{lab.prefix}b")
    for agent in (a, b):
        init_agent(agent, wss, token, "--ca-file", ca)
        agent.start()
    try:
        ip_b = b.overlay_ipv4()
        wait_for(lambda: hosts["a"].ping(ip_b), timeout=30, what="A to ping B with the hub reached over wss://")
        assert a.status()["hub"]["state"] == "connected"
    except Exception:
        print("--- A ---\n" + a.log()[-3000:] + "\n--- B ---\n" + b.log()[-3000:])
        raise

    # Without the CA file the hub's certificate cannot be verified: the agent never joins and says why.
    c = Agent(hosts["b"], workdir, f"{lab.prefix}c", label="c")  # beside b, with a configuration of its own
    init_agent(c, wss, token)
    c.start()
    hub_state = wait_for(lambda: (s := c.status()["hub"]) and s.get("last_error") and s, timeout=20,
                         what="the untrusting agent to report its hub error")
    assert hub_state["state"] != "connected"
    assert "certificate" in hub_state["last_error"].lower() or "tls" in hub_state["last_error"].lower(), hub_state
    c.down()


def test_a_revoked_token_stops_the_agent_with_a_clear_message(lab, workdir):
    hosts = lan(lab, peers=("a",))
    hub = Hub(hosts["hub"], workdir)
    hub.create_network("home")
    token = hub.create_token("home", "doomed")
    hub.start()
    a = Agent(hosts["a"], workdir, f"{lab.prefix}a")
    init_agent(a, hub.url, token)
    a.start()
    a.overlay_ipv4()
    token_id = re.search(r"^(\S+)\s+doomed\s", hub.admin("token", "list", "home"), re.MULTILINE).group(1)
    hub.admin("token", "revoke", "home", token_id)
    # The hub closes the session; the agent must not retry a revoked token forever: it exits non-zero, cleaned up.
    code = a.process.wait(timeout=30)
    assert code != 0
    log = a.log()
    assert "unauthorized" in log and "not retrying" in log, log[-2000:]
    assert hosts["a"].exec("ip", "link", "show", a.interface, check=False).returncode != 0, "interface removed on exit"
    assert subprocess.run(["pgrep", "-f", f"wireguard-go.*{a.interface}"], capture_output=True).returncode != 0
