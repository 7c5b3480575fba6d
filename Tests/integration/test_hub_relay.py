"""Presence and relay: announcements, hub-stamped senders, isolation, errors instead of silence."""
import json

import pytest
from rgclient import Agent, sealed_blob


def joined(hub, network, token, name):
    agent = Agent(hub, network, token, name=name)
    agent.welcome = agent.join()
    return agent


def test_joiners_are_announced_both_ways_and_departures_too(hub):
    a = joined(hub, "home", hub.token, "a")
    b = joined(hub, "home", hub.token, "b")
    assert [peer["public_key"] for peer in b.welcome["peers"]] == [a.public_key]
    assert a.expect("peer_joined")["peer"] == b.welcome["self"]
    c = joined(hub, "home", hub.token, "c")
    assert {peer["public_key"] for peer in c.welcome["peers"]} == {a.public_key, b.public_key}
    assert a.expect("peer_joined")["peer"]["public_key"] == c.public_key
    assert b.expect("peer_joined")["peer"]["public_key"] == c.public_key
    c.close()
    assert a.expect("peer_left") == {"type": "peer_left", "public_key": c.public_key, "reason": "disconnected"}
    assert b.expect("peer_left")["public_key"] == c.public_key


def test_relay_stamps_the_sender_and_forwards_the_box_unchanged(hub):
    a = joined(hub, "home", hub.token, "a")
    b = joined(hub, "home", hub.token, "b")
    a.expect("peer_joined")
    for kind in ["offer", "answer", "candidate", "end_of_candidates", "restart"]:
        box = sealed_blob(seed=len(kind), size=48)
        a.signal(kind, b.public_key, sealed=box, msg_id=f"{kind}-1")
        assert b.expect(kind) == {"type": kind, "from": a.public_key, "sealed": box}
    b.signal("answer", a.public_key)
    assert a.expect("answer")["from"] == b.public_key
    metrics = hub.metrics()
    assert metrics['riftgate_hub_messages_relayed_total{kind="offer"}'] == 1
    assert metrics['riftgate_hub_messages_relayed_total{kind="answer"}'] == 2


def test_client_supplied_from_is_rejected(hub):
    a = joined(hub, "home", hub.token, "a")
    b = joined(hub, "home", hub.token, "b")
    a.expect("peer_joined")
    a.signal("offer", b.public_key, msg_id="spoof", **{"from": b.public_key})
    error = a.expect_error("sender_not_allowed")
    assert error["ref"] == "spoof"
    b.assert_silent(0.5)
    a.signal("offer", b.public_key)  # still open and serving
    assert b.expect("offer")["from"] == a.public_key


def test_message_to_absent_peer_gets_peer_not_found(hub):
    a = joined(hub, "home", hub.token, "a")
    stranger = Agent(hub, "home", hub.token)
    a.signal("candidate", stranger.public_key, msg_id="c-9")
    error = a.expect_error("peer_not_found")
    assert error["ref"] == "c-9"


def test_networks_are_isolated(hub):
    hub.create_network("work")
    _, work_token = hub.create_token("work")
    a = joined(hub, "home", hub.token, "a")
    b = joined(hub, "work", work_token, "b")
    assert b.welcome["peers"] == []
    assert b.welcome["network"] == "work"
    a.assert_silent(0.5)
    b.signal("offer", a.public_key, msg_id="cross")
    assert b.expect_error("peer_not_found")["ref"] == "cross"
    a.assert_silent(0.3)
    b.close()
    a.assert_silent(0.5)


def test_duplicate_key_replaces_the_old_connection_without_false_peer_left(hub):
    old = joined(hub, "home", hub.token, "a")
    b = joined(hub, "home", hub.token, "b")
    old.expect("peer_joined")
    new = Agent(hub, "home", hub.token, name="a", key=old.key)
    new.welcome = new.join()
    assert new.welcome["self"] == old.welcome["self"], "same key, same addresses"
    assert [peer["public_key"] for peer in new.welcome["peers"]] == [b.public_key]
    old.expect_error("replaced")
    assert old.expect_closed() == 4409
    assert b.expect("peer_joined")["peer"] == new.welcome["self"]  # re-announced: the agent restarted
    b.assert_silent(1.0)  # and never a peer_left for the live peer
    b.signal("offer", new.public_key)
    assert new.expect("offer")["from"] == b.public_key
    new.close()
    assert b.expect("peer_left")["reason"] == "disconnected"


@pytest.mark.parametrize("text,code,ref", [
    ("{not json", "malformed_json", None),
    ('"just a string"', "not_an_object", None),
    ('{"type":"teleport","id":"t1"}', "unknown_type", "t1"),
    ('{"type":"offer","to":42,"sealed":{},"id":"w1"}', "wrong_type", "w1"),
    ('{"type":"offer","id":"m1"}', "missing_field", "m1"),
    ('{"type":"offer","to":"x","sealed":{"nonce":"","box":""},"extra":1}', "invalid_value", None),
])
def test_malformed_input_gets_the_right_code_and_the_connection_stays(hub, text, code, ref):
    a = joined(hub, "home", hub.token, "a")
    b = joined(hub, "home", hub.token, "b")
    a.expect("peer_joined")
    a.ws.send(text)
    error = a.expect_error(code)
    assert error.get("ref") == ref
    a.signal("offer", b.public_key)
    assert b.expect("offer")["from"] == a.public_key
    metrics = hub.metrics()
    assert metrics[f'riftgate_hub_messages_rejected_total{{code="{code}"}}'] >= 1
