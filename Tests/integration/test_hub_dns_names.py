"""Peers' DNS names (PROTOCOL.md §6.13) against the real hub: derived, unique, per-version, renamed, suffix set by the CLI."""
from rgclient import Agent


def join(hub, token, name, version=3, key=None):
    agent = Agent(hub, "home", token, name=name, key=key).connect()
    challenge = agent.read_challenge()
    assert 3 in challenge["versions"]
    agent.hello(version=version)
    return agent


def test_duplicate_names_get_numbered_labels_and_only_v3_sessions_see_them(hub_factory):
    hub = hub_factory(start=False)
    _, token = hub.create_token("home", "t")
    hub.start()
    first = join(hub, token, "Zoë's Laptop")
    welcome = first.expect("welcome")
    assert welcome["version"] == 3 and welcome["dns_domain"] == "home.rift"
    assert welcome["self"]["dns_name"] == "zo-s-laptop"
    second = join(hub, token, "zo s laptop")
    assert second.expect("welcome")["self"]["dns_name"] == "zo-s-laptop-2"
    assert first.expect("peer_joined")["peer"]["dns_name"] == "zo-s-laptop-2"
    old = join(hub, token, "old agent", version=2)
    welcome = old.expect("welcome")
    assert "dns_domain" not in welcome and "dns_name" not in welcome["self"]
    assert all("dns_name" not in peer for peer in welcome["peers"]), "a v2 session is not sent version-3 fields"
    listed = hub.cli("peer", "list", "home").stdout
    assert "zo-s-laptop.home.rift" in listed and "zo-s-laptop-2.home.rift" in listed
    # A rename reaches the others at once, as a peer_joined with the new label.
    first.expect("peer_joined")
    second.close()
    first.expect("peer_left")
    renamed = join(hub, token, "Printer", key=second.key)
    assert renamed.expect("welcome")["self"]["dns_name"] == "printer"
    update = first.expect("peer_joined")["peer"]
    assert update["public_key"] == renamed.public_key and update["dns_name"] == "printer" and update["name"] == "Printer"
    for agent in (first, old, renamed):
        agent.close()


def test_dns_suffix_is_set_by_the_cli_and_bad_suffixes_are_explained(hub_factory):
    hub = hub_factory(start=False)
    out = hub.cli("network", "create", "corp", "--dns-suffix", "vpn.example.org").stdout
    assert "names under corp.vpn.example.org" in out
    bad = hub.cli("network", "set", "home", "--dns-suffix", "home.local", check=False)
    assert bad.returncode != 0 and "invalid DNS suffix" in bad.stderr and "local" in bad.stderr
    hub.cli("network", "set", "home", "--dns-suffix", "internal")
    assert "home.internal" in hub.cli("network", "list").stdout
    _, token = hub.create_token("home", "t")
    hub.start()
    agent = join(hub, token, "box")
    assert agent.expect("welcome")["dns_domain"] == "home.internal"
    agent.close()
