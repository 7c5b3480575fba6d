"""Which pair each side is on after a hard-NAT connect, over PAIR_RUNS connects (default 10): a measurement for
issue 12 item 2, not part of `make test` (the name does not match `test_*.py`; run it by path, under the CPU lock):

    env RIFTGATE_BIN_DIR=$(swift build --show-bin-path) .venv/bin/python -m pytest -q -rs \\
        Tests/e2e/pair_count_probe.py | grep PAIRCOUNT

With KEEP_E2E_DIR set the agents' logs stay; their debug `timeline` lines show every pair each side selected.
"""
import os
import time

import pytest
from coturn import turnserver_missing
from deployment import Deployment
from topologies import hard_nats

RUNS = int(os.environ.get("PAIR_RUNS", "10"))
SETTLE = 3.0    # seconds after the first ping: the pair changes, if any, come within ~0.5 s of the first selection


@pytest.mark.parametrize("run", range(RUNS))
def test_pair_after_connect(lab, workdir, timing, run):
    reason = turnserver_missing()
    if reason:
        pytest.skip(reason)
    deployment = Deployment(hard_nats(lab), workdir, turn=True)
    deployment.start_hub()
    a, b = deployment.agent("a"), deployment.agent("b")
    a.start()
    started = time.monotonic()
    b.start()
    deployment.wait_for_ping("a", "b", timeout=30)
    connect = time.monotonic() - started
    time.sleep(SETTLE)
    views = {"a": deployment.peer_view("a", "b"), "b": deployment.peer_view("b", "a")}
    text = " | ".join(f"{viewer}: {entry.get('path_type')}/{entry.get('path_mode')} {entry.get('local_candidate')} -> "
                      f"{entry.get('remote_candidate')}" for viewer, entry in views.items())
    timing(f"PAIRCOUNT second agent start to first ping {connect:.2f} s; {text}")
