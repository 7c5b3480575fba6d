"""A NAT router namespace built with nftables: masquerade out of `wan0`, stateful firewall in front of `lan0`.

Two behaviours, as users meet them:
- endpoint-independent mapping (a home router): plain `masquerade` keeps the source port when it is free, so a
  mapping learned through STUN is the one every destination sees, and hole punching works;
- symmetric ("hard") NAT: `masquerade fully-random` picks a new random port for every new destination, so a
  STUN-learned mapping is useless to the peer and only a TURN relay connects.
Filtering is what Linux conntrack does: an inbound packet passes only if it answers a mapping made from inside.
Unsolicited packets to the router itself are dropped (not answered), as home routers do; that also keeps a peer's
early connectivity check from creating a conntrack entry that would steal the port of the mapping made a moment
later from inside.

Fault injection: `cut(addresses)` silently drops traffic between the LAN and some public addresses (a path that
died), `restore()` undoes it, and `rebind()` makes the router forget all its mappings and hand out new ports (as
after a router reboot): it flushes conntrack and moves masquerading to another port range.
"""
from __future__ import annotations

from dataclasses import dataclass

from lab import Host

TABLE = "riftlab"


@dataclass
class NatRouter:
    """The nftables NAT and firewall of one router namespace (devices `wan0` and `lan0`)."""
    host: Host
    public: str
    symmetric: bool = False

    def install(self) -> None:
        """Enables forwarding and loads the NAT table (replacing an earlier one)."""
        self.host.sysctl("net.ipv4.ip_forward", "1")
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
        iifname "wan0" ct state established,related accept
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

    def restore(self) -> None:
        """Undoes `cut`."""
        self.host.nft(f"flush chain ip {TABLE} cut\n")

    def rebind(self, ports: str = "20000-29999") -> None:
        """Forgets every mapping and maps new flows into `ports`, so each peer's public port changes."""
        self.host.nft(f"flush chain ip {TABLE} postrouting\n"
                      f"add rule ip {TABLE} postrouting {self._masquerade(ports)}\n")
        self.host.exec("conntrack", "-F")

    def mappings(self) -> str:
        """The router's conntrack table (for failure messages)."""
        return self.host.exec("conntrack", "-L", check=False).stdout
