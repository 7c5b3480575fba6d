"""Fixtures for the hub integration tests: a running hub with a network and a token."""
import os
import sys

import pytest

# The protocol encoding shared with the load generator (Tests/protoclient/riftproto.py), imported by rgclient.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "protoclient"))

from hubharness import HUB_BIN, Hub  # noqa: E402
from pgserver import PostgresServer, PostgresUnavailable  # noqa: E402


def pytest_collection_modifyitems(config, items):
    if not os.access(HUB_BIN, os.X_OK):
        skip = pytest.mark.skip(reason=f"{HUB_BIN} not built (set RIFTGATE_BIN_DIR to the swift build output directory)")
        for item in items:
            if "hub" in item.fixturenames or "hub_factory" in item.fixturenames:
                item.add_marker(skip)


@pytest.fixture
def hub_factory(tmp_path):
    """Creates hubs (stopped at the end of the test): hub_factory(extra_args, state_dir=None)."""
    hubs = []

    def make(extra_args=(), state_dir=None, start=True):
        hub = Hub(state_dir or tmp_path / f"state{len(hubs)}", extra_args)
        hubs.append(hub)
        if state_dir is None:
            hub.create_network("home")
        if start:
            hub.start()
        return hub

    yield make
    # A hub still running at the end must shut down cleanly on SIGTERM: a crash or a sanitizer report at shutdown
    # (exit status 66 under TSan) would otherwise pass unseen. Hubs the test stopped or killed itself are not judged.
    unclean = []
    for hub in hubs:
        running = hub.process is not None and hub.process.poll() is None
        status = hub.stop()
        if running and status != 0:
            unclean.append(f"hub in {hub.state_dir} exited with {status} on SIGTERM; its last log lines:\n"
                           + "\n".join(hub.log_lines[-20:]))
    if unclean:
        pytest.fail("\n\n".join(unclean))


@pytest.fixture
def hub(hub_factory):
    """A running hub with network `home`; `hub.token` is a valid token for it."""
    hub = hub_factory(("--ping-interval", "1", "--pong-timeout", "3"), start=False)
    hub.token_id, hub.token = hub.create_token("home", "fixture")
    hub.start()
    return hub


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server started for the module (Tests/support/postgres-test-server.sh); the tests that use it skip,
    with the script's reason, where PostgreSQL is not installed."""
    try:
        server = PostgresServer()
    except PostgresUnavailable as absent:
        pytest.skip(str(absent))
    yield server
    server.destroy()
