"""Prometheus: the alert and recording rules in deploy/prometheus/ (promtool check and unit tests), and a real /metrics
scrape of a running hub, which must pass `promtool check metrics` and carry every series the rules use."""
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from hubharness import eventually
from rgclient import Agent

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is missing: deploy/install-deps.sh installs the prometheus package")


def promtool(*args, input=None):
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, input=input, timeout=120, cwd=RULES)


@needs_promtool
def test_rules_are_valid():
    result = promtool("check", "rules", "riftgate.rules.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_rules_unit_tests_pass():
    result = promtool("test", "rules", "riftgate.rules.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_a_real_scrape_passes_promtool_and_has_what_the_rules_use(hub_factory, tmp_path):
    # With TURN configured, so that the TURN check's series are there too: nothing listens on the port, so the check
    # reports the server unreachable, promptly (ICMP port unreachable on loopback).
    secret = tmp_path / "turn-secret"
    secret.write_text("not-coturns-secret\n")
    secret.chmod(0o600)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as unused:
        unused.bind(("127.0.0.1", 0))
        turn_port = unused.getsockname()[1]
    hub = hub_factory(("--turn-secret-file", str(secret), "--turn-url", f"turn:127.0.0.1:{turn_port}"))
    Agent(hub, "home", "rgt_" + "A" * 43).connect().expect_error("unauthorized")
    assert eventually(lambda: "riftgate_hub_turn_check_ok{" in hub.http("/metrics", admin=True)[1], timeout=60)
    status, body = hub.http("/metrics", admin=True)
    assert status == 200
    result = promtool("check", "metrics", input=body)
    assert result.returncode == 0 and result.stdout.strip() == "" and result.stderr.strip() == "", result.stdout + result.stderr
    rules = (RULES / "riftgate.rules.yml").read_text()
    exported = set(re.findall(r"^([a-z_]+)[{ ]", body, re.M))
    used = {name for name in re.findall(r"\b((?:riftgate_hub|process)_[a-z_]+)\b", rules)} - {"riftgate_hub"}
    used = {name for name in used if ":" not in name}
    assert used <= exported, f"the rules use series the hub does not export: {sorted(used - exported)}"
    open_fds = float(re.search(r"^process_open_fds (\d+)$", body, re.M).group(1))
    max_fds = float(re.search(r"^process_max_fds (\d+)$", body, re.M).group(1))
    assert 0 < open_fds < max_fds
