"""Cutting one host's hub connection, and only that: an nftables table in the host's own namespace drops every packet
between it and the hub's WebSocket port, so the connection goes silent while everything else (STUN to the hub, the
relay, the tunnels) passes. Used by the e2e test of a peer off the hub and by the soak."""


def block_hub(host, hub) -> None:
    """Drops every packet between `host` and `hub`'s WebSocket port, both ways, in `host`'s namespace."""
    host.nft(f"""table inet cuthub {{
  chain output {{ type filter hook output priority filter; ip daddr {hub.host.address} tcp dport {hub.port} drop; }}
  chain input {{ type filter hook input priority filter; ip saddr {hub.host.address} tcp sport {hub.port} drop; }}
}}
""")


def unblock_hub(host) -> None:
    """Lets `host`'s hub connection through again."""
    host.nft("delete table inet cuthub\n")
