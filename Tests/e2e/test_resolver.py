"""Names end to end: each agent answers DNS for the network's names on its own overlay address, port 53 (issue 16).

Two agents on a LAN; from A's namespace, dnspython asks A's resolver for B's name (A, AAAA), the PTR of B's addresses,
and a name outside the domain (REFUSED: never forwarded), over UDP and TCP; then B's resolver answers for B itself, from B's namespace
and from A's through the tunnel. An administrator's rename (`riftgate-hub peer rename`) reaches A's answers within
seconds (the figure is printed). The host side (systemd-resolved, /etc/hosts) is not exercised here.
"""
import json
import sys
import time

import pytest

from deployment import NETWORK, Deployment
from lab import wait_for
from topologies import lan_topology

try:
    import dns.message  # noqa: F401  (dnspython, Tests/requirements.txt)
except ImportError:  # pragma: no cover - CI installs it
    dns = None

# Run in a namespace by the venv's Python: one query per argument triple, each answer as JSON (rcode, flags, records).
QUERY_SCRIPT = r"""
import json, sys
import dns.flags, dns.message, dns.query, dns.rcode, dns.rdatatype
server = sys.argv[1]
results = []
for name, asked in zip(sys.argv[2::2], sys.argv[3::2]):
    kind, _, transport = asked.partition("/")  # "A" over UDP, "A/tcp" over TCP
    query = dns.message.make_query(name, kind)
    try:
        send = dns.query.tcp if transport == "tcp" else dns.query.udp
        reply = send(query, server, port=53, timeout=5)
    except Exception as error:
        results.append({"name": name, "type": asked, "error": repr(error)})
        continue
    results.append({
        "name": name, "type": asked, "rcode": dns.rcode.to_text(reply.rcode()),
        "aa": bool(reply.flags & dns.flags.AA),
        "answers": sorted(item.to_text() for rrset in reply.answer for item in rrset),
        "ttls": sorted({rrset.ttl for rrset in reply.answer}),
        "authority": [dns.rdatatype.to_text(rrset.rdtype) for rrset in reply.authority],
    })
print(json.dumps(results))
"""


def ask(host, server: str, *questions: tuple[str, str]) -> dict:
    """Each (name, type) asked of `server`:53 from `host`'s namespace; the answers by (name, type)."""
    args = [part for question in questions for part in question]
    result = host.exec(sys.executable, "-c", QUERY_SCRIPT, server, *args, timeout=60)
    return {(entry["name"], entry["type"]): entry for entry in json.loads(result.stdout)}


def reverse(address: str) -> str:
    import ipaddress
    return ipaddress.ip_address(address).reverse_pointer + "."


def test_agents_answer_for_the_networks_names(lab, workdir, timing):
    if dns is None:
        pytest.skip("dnspython is not installed (pip install -r Tests/requirements.txt)")
    deployment = Deployment(lan_topology(lab), workdir, turn=False)
    deployment.start_hub()
    a, b = deployment.agent("a"), deployment.agent("b")
    a.start()
    b.start()
    try:
        deployment.wait_for_ping("a", "b", timeout=45)
        ip_a, ip6_a = deployment.overlay("a")
        ip_b, ip6_b = deployment.overlay("b")
        name_b = b.status()["dns_name"]
        domain = name_b.split(".", 1)[1]
        deployment.peer_view("a", "b", condition=lambda entry: entry.get("dns_name") == name_b)
        status_dns = a.status()["dns"]
        assert status_dns["domain"] == domain and status_dns["resolver"] == f"{ip_a}:53", status_dns
        assert status_dns["resolvers"] == [f"{ip_a}:53", f"[{ip6_a}]:53"], status_dns

        host_a = deployment.topology.peers["a"]
        answers = ask(host_a, ip_a, (name_b, "A"), (name_b.upper(), "AAAA"), (reverse(ip_b), "PTR"), (reverse(ip6_b), "PTR"),
                      ("example.com", "A"), (f"no-such-peer.{domain}", "A"), (f"{name_b}.", "MX"), (name_b, "A/tcp"))
        print(json.dumps(list(answers.values()), indent=1))
        by = lambda name, kind: answers[(name, kind)]  # noqa: E731
        assert by(name_b, "A")["rcode"] == "NOERROR" and by(name_b, "A")["aa"], answers
        assert by(name_b, "A")["answers"] == [ip_b]
        assert by(name_b, "A")["ttls"] and max(by(name_b, "A")["ttls"]) <= 60, "short TTL: renames must propagate"
        assert by(name_b.upper(), "AAAA")["answers"] == [ip6_b]
        assert by(reverse(ip_b), "PTR")["answers"] == [name_b + "."]
        assert by(reverse(ip6_b), "PTR")["answers"] == [name_b + "."]
        assert by("example.com", "A")["rcode"] == "REFUSED" and not by("example.com", "A")["answers"], answers
        assert by(f"no-such-peer.{domain}", "A")["rcode"] == "NXDOMAIN" and "SOA" in by(f"no-such-peer.{domain}", "A")["authority"]
        assert by(f"{name_b}.", "MX")["rcode"] == "NOERROR" and not by(f"{name_b}.", "MX")["answers"], "NODATA"
        assert by(name_b, "A/tcp")["answers"] == [ip_b], "over TCP too"
        over_ipv6 = ask(host_a, ip6_a, (name_b, "AAAA"))[(name_b, "AAAA")]
        assert over_ipv6["answers"] == [ip6_b], over_ipv6

        # B answers for itself, on its own overlay address: locally and to A through the tunnel.
        host_b = deployment.topology.peers["b"]
        own = ask(host_b, ip_b, (name_b, "A"))[(name_b, "A")]
        assert own["answers"] == [ip_b], own
        remote = ask(host_a, ip_b, (name_b, "A"))[(name_b, "A")]
        assert remote["answers"] == [ip_b], remote
        timing(f"names: {name_b} -> {ip_b} from A's resolver {ip_a}:53 and from B's own")

        # A rename by the administrator: A's resolver answers the new name, and the old one no longer exists.
        renamed = f"box-b.{domain}"
        started = time.monotonic()
        deployment.hub.admin("peer", "rename", NETWORK, "laptop-b", "Box B", "--dns-name", "box-b")

        def follows() -> bool:
            now = ask(host_a, ip_a, (renamed, "A"), (name_b, "A"))
            return now[(renamed, "A")].get("answers") == [ip_b] and now[(name_b, "A")].get("rcode") == "NXDOMAIN"
        wait_for(follows, timeout=30, interval=0.1, what="A's resolver to answer B's new name")
        timing(f"names: a rename reached A's resolver {time.monotonic() - started:.2f} s after `peer rename` "
               f"(including a Python start per query round)")
        assert ask(host_a, ip_a, (reverse(ip_b), "PTR"))[(reverse(ip_b), "PTR")]["answers"] == [renamed + "."]
    except Exception:
        print(deployment.logs())
        raise
