"""Per-device (single-use, --max-keys) and ephemeral tokens, against the real hub and its admin CLI."""
from hubharness import eventually
from rgclient import Agent


def join(hub, token, name):
    agent = Agent(hub, "home", token, name=name).connect()
    agent.read_challenge()
    agent.hello()
    return agent


def test_single_use_token_admits_one_device_which_may_come_back(hub_factory):
    hub = hub_factory(start=False)
    _, token = hub.create_token("home", "phone", "--single-use")
    hub.start()
    phone = join(hub, token, "phone")
    phone.expect("welcome")
    copy = join(hub, token, "copy")
    error = copy.expect_error("token_exhausted")
    assert "admits only one key" in error["message"]
    assert copy.expect_closed() == 4403
    phone.close()
    again = Agent(hub, "home", token, name="phone", key=phone.key).connect()
    again.read_challenge()
    again.hello()
    assert again.expect("welcome")["self"]["public_key"] == phone.public_key, "the admitted device rejoins"
    again.close()
    listed = hub.cli("token", "list", "home").stdout
    assert "used up" in listed and "1/1" in listed
    assert hub.metrics()['riftgate_hub_messages_rejected_total{code="token_exhausted"}'] == 1


def test_max_keys_and_bad_options_are_explained(hub_factory):
    hub = hub_factory(start=False)
    result = hub.cli("token", "create", "home", "--label", "x", "--max-keys", "0", check=False)
    assert result.returncode != 0 and "--max-keys takes 1 to" in result.stderr
    result = hub.cli("token", "create", "home", "--label", "x", "--single-use", "--max-keys", "3", check=False)
    assert result.returncode != 0 and "--single-use admits one key" in result.stderr
    out = hub.cli("token", "create", "home", "--label", "lab", "--max-keys", "2").stdout
    assert "admits at most 2 keys" in out


def test_ephemeral_peer_is_removed_after_the_grace_and_its_address_is_not_lost(hub_factory):
    hub = hub_factory(("--ephemeral-grace", "2s"), start=False)
    _, ephemeral = hub.create_token("home", "runners", "--ephemeral")
    _, permanent = hub.create_token("home", "server")
    hub.start()
    runner = join(hub, ephemeral, "runner")
    runner.expect("welcome")
    server = join(hub, permanent, "server")
    server.expect("welcome")
    runner.close()
    assert eventually(lambda: "runner" not in hub.cli("peer", "list", "home").stdout, timeout=30, interval=0.5), \
        "the ephemeral peer is still listed long after the grace"
    assert "server" in hub.cli("peer", "list", "home").stdout, "permanent peers stay"
    metrics = hub.metrics()
    assert metrics["riftgate_hub_ephemeral_peers_removed_total"] == 1
    assert hub.wait_for_log(r"ephemeral peer removed")
    left = server.expect("peer_left")
    assert (left["public_key"], left["reason"]) == (runner.public_key, "disconnected"), left
    # Its address is free for the next peer now: a tunnel a peer kept to it since it left (PROTOCOL.md §6.6) must go.
    removed = server.expect("peer_left", timeout=10)
    assert (removed["public_key"], removed["reason"]) == (runner.public_key, "revoked"), removed
    server.close()
