"""A NAT router namespace built with nftables: masquerade out of `wan0`, stateful firewall in front of `lan0`.

What is modelled, exactly (Tests/e2e/test_nat_routers.py checks mapping, filtering, the firewall and hairpinning
with plain UDP sockets; the egress filter is exercised by the turn-only-egress row of test_nat_traversal.py):
- Mapping. Endpoint-independent (a home router, an ISP's router, a carrier-grade NAT): plain `masquerade` keeps the
  inside source port when it is free, so the mapping STUN learns is the one every destination sees. Symmetric
  ("hard"): `masquerade fully-random` picks a new random port for every new destination, so a STUN-learned mapping
  is useless to the peer and only a TURN relay connects.
- Filtering. Linux conntrack is address-and-port-dependent ("port-restricted"): an inbound packet passes only if it
  answers a mapping made from inside to exactly that remote address and port. Hole punching works because both
  sides send first; a symmetric NAT on either side breaks it.
- Stateful firewall. Unsolicited inbound packets, to the router's own addresses or forwarded towards a LAN host,
  are dropped silently (no ICMP), as home routers do. A dropped packet's conntrack entry is never confirmed, so it
  leaves no state behind: a peer's early ICE check to the router cannot occupy the port tuple and make the router
  hand the inside host's next outbound flow a fresh port (which would turn a cone NAT into a symmetric one).
- No hairpinning. A packet from inside to the router's own public address is dropped, not looped back to the host
  owning that mapping, so two hosts behind one (carrier-grade) NAT cannot reach each other through it.
- Egress filter (optional, `egress`): only the listed flows may leave the LAN, as on a locked-down network that lets
  out nothing but TCP to the hub and UDP to the TURN server.
Not modelled: mapping timeouts shorter than conntrack's (30 s unreplied, 120 s assured UDP), port-preservation
failures, ALGs, NAT66. IPv6 (`ipv6=True`, the dual-stack topologies) is routed, not translated, behind the same
stateful firewall: what answers an inside flow comes in, nothing else (RFC 6092).

Fault injection: `cut(addresses)` silently drops traffic between the LAN and some public addresses (a path that
died), `cut_ipv6()` all IPv6 traffic through the router (the LAN's IPv6 broke), `lose(percent)` a share of every packet at
random (a lossy uplink), `delay(ms, jitter_ms)` holds every forwarded packet for a while (a slow link: this kernel
has no netem, so a small NFQUEUE program does it, `delay_queue.py`), `restore()` undoes all but the delay, and `rebind()` makes the router forget all its mappings and hand out new ports (as
after a router reboot): it flushes conntrack and moves masquerading to another port range.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

from lab import Host

TABLE = "riftlab"
DELAY_QUEUE = 7
DELAY_PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "delay_queue.py")


@dataclass
class NatRouter:
    """The nftables NAT and firewall of one router namespace (devices `wan0` and `lan0`)."""
    host: Host
    public: str
    symmetric: bool = False
    # nft match expressions for the only flows allowed out of the LAN (e.g. "ip daddr 203.0.113.3 udp dport 3478");
    # empty: everything may leave.
    egress: tuple[str, ...] = ()
    # Routes IPv6 too (no NAT66): forwarding on, and a stateful IPv6 firewall in front of the LAN (RFC 6092: what
    # answers an inside flow comes in, nothing else; ICMPv6 to the router itself, for neighbour discovery).
    ipv6: bool = False
    delayer: subprocess.Popen | None = field(default=None, repr=False)
    added_delay_ms: float = 0  # the most `delay` holds a packet, each way

    def install(self) -> None:
        """Enables forwarding and loads the NAT table (replacing an earlier one)."""
        self.host.sysctl("net.ipv4.ip_forward", "1")
        if self.egress:
            outbound = "".join(f'iifname "lan0" oifname "wan0" {match} accept\n        ' for match in self.egress)
        else:
            outbound = 'iifname "lan0" oifname "wan0" accept'
        self.host.nft(f"""
table ip {TABLE}
delete table ip {TABLE}
table ip {TABLE} {{
    chain postrouting {{
        type nat hook postrouting priority srcnat; policy accept;
        {self._masquerade()}
    }}
    chain input {{
        type filter hook input priority filter; policy accept;
        ct state established,related accept
        iifname "wan0" drop
        ip daddr {self.public} drop
    }}
    chain cut {{
    }}
    chain forward {{
        type filter hook forward priority filter; policy drop;
        jump cut
        {outbound}
        iifname "wan0" oifname "lan0" ct state established,related accept
    }}
}}
""")
        if self.ipv6:
            self.host.sysctl("net.ipv6.conf.all.forwarding", "1")
            self.host.nft(f"""
table ip6 {TABLE}
delete table ip6 {TABLE}
table ip6 {TABLE} {{
    chain input {{
        type filter hook input priority filter; policy accept;
        ct state established,related accept
        meta l4proto ipv6-icmp accept
        iifname "wan0" drop
    }}
    chain cut {{
    }}
    chain forward {{
        type filter hook forward priority filter; policy drop;
        jump cut
        iifname "lan0" oifname "wan0" accept
        iifname "wan0" oifname "lan0" ct state established,related accept
    }}
}}
""")

    def _masquerade(self, ports: str | None = None) -> str:
        """The postrouting rule: masquerade out of wan0, into `ports` if given, randomly for a symmetric NAT."""
        flags = " fully-random" if self.symmetric else ""
        if ports:  # a port range needs a transport protocol match; everything riftgate sends is TCP or UDP
            return f'oifname "wan0" meta l4proto {{ tcp, udp }} masquerade to :{ports}{flags}'
        return f'oifname "wan0" masquerade{flags}'

    def cut(self, *addresses: str) -> None:
        """Drops every packet between the LAN and `addresses`, both ways, without an ICMP error (a dead path)."""
        rules = "".join(f"add rule ip {TABLE} cut ip daddr {address} drop\n"
                        f"add rule ip {TABLE} cut ip saddr {address} drop\n" for address in addresses)
        self.host.nft(f"flush chain ip {TABLE} cut\n" + rules)

    def lose(self, percent: float) -> None:
        """Drops `percent` % of the packets the router forwards, each way, at random (a lossy uplink: Wi-Fi at the edge
        of its range, a congested mobile cell). No delay: this kernel has no netem."""
        self.host.nft(f"flush chain ip {TABLE} cut\n"
                      f"add rule ip {TABLE} cut numgen random mod 10000 < {int(percent * 100)} drop\n")

    def delay(self, milliseconds: float, log: str, jitter_ms: float = 0) -> None:
        """Holds every packet the router forwards, each way, for `milliseconds` ± up to `jitter_ms` (uniform), so a
        path through this router gains twice that in round-trip time: a distant peer, a mobile or satellite link.
        IPv4 only. Packets keep their order without jitter; with it they may be reordered, as with netem's jitter. `log`
        gets the program's output (a line a second: packets held, released)."""
        self.undelay()
        self.delayer = self.host.spawn(sys.executable, DELAY_PROGRAM, "--queue", str(DELAY_QUEUE),
                                       "--delay-ms", str(milliseconds), "--jitter-ms", str(jitter_ms), log=log)
        deadline = time.monotonic() + 10
        while "ready" not in _read(log):
            if self.delayer.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the delay program did not start: {_read(log)[-500:]}")
            time.sleep(0.05)
        # iptables' NFQUEUE target, through nftables' compat layer: this kernel has no nft `queue` expression.
        self.host.exec("iptables", "-A", "FORWARD", "-j", "NFQUEUE", "--queue-num", str(DELAY_QUEUE), "--queue-bypass")
        self.added_delay_ms = milliseconds + jitter_ms

    def undelay(self) -> None:
        """Ends `delay`: packets pass at once again (the ones held are let go first)."""
        self.host.exec("iptables", "-F", "FORWARD", check=False)
        if self.delayer and self.delayer.poll() is None:
            self.delayer.terminate()
            self.delayer.wait(timeout=10)
        self.delayer = None
        self.added_delay_ms = 0

    def drop_keepalives(self) -> None:
        """Drops WireGuard keepalives (UDP datagrams of 32 bytes: a transport header and its tag around nothing) both
        ways, and nothing else: a working path on which the peers' own sign of life is lost."""
        self.host.nft(f"flush chain ip {TABLE} cut\nadd rule ip {TABLE} cut udp length 40 drop\n")

    def cut_ipv6(self) -> None:
        """Drops every IPv6 packet between the LAN and the outside, without an ICMP error: the LAN's IPv6 broke (as
        when a provider's IPv6 fails while IPv4 keeps working). Needs `ipv6=True`."""
        self.host.nft(f"flush chain ip6 {TABLE} cut\nadd rule ip6 {TABLE} cut drop\n")

    def restore(self) -> None:
        """Undoes `cut`, `lose`, `drop_keepalives` and `cut_ipv6` (not `delay`: see `undelay`)."""
        self.host.nft(f"flush chain ip {TABLE} cut\n" + (f"flush chain ip6 {TABLE} cut\n" if self.ipv6 else ""))

    def rebind(self, ports: str = "20000-29999") -> None:
        """Forgets every mapping and maps new flows into `ports`, so each peer's public port changes."""
        self.host.nft(f"flush chain ip {TABLE} postrouting\n"
                      f"add rule ip {TABLE} postrouting {self._masquerade(ports)}\n")
        self.host.exec("conntrack", "-F")

    def mappings(self, *filters: str) -> str:
        """The router's confirmed conntrack entries (`conntrack -L`, with optional filters such as "-s", addr)."""
        return self.host.exec("conntrack", "-L", *filters, check=False).stdout


def _read(path: str) -> str:
    try:
        with open(path, errors="replace") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""
