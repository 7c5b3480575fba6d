import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab"))

from deployment import Deployment  # noqa: E402
from lab import Lab, can_build_labs  # noqa: E402

TIMINGS: list[str] = []


@pytest.fixture
def lab():
    reason = can_build_labs()
    if reason:
        pytest.skip(reason)
    with Lab() as built:
        yield built
    # Every riftgate and riftgate-hub still running at the end must exit 0 on SIGTERM (as under systemctl stop).
    if built.unclean_exits:
        pytest.fail("stopped with SIGTERM at the end of the test, exited other than with 0: "
                    + "; ".join(f"{command} -> {status}" for command, status in built.unclean_exits))


@pytest.fixture
def workdir():
    """A directory for the test's logs and state, removed afterwards; with KEEP_E2E_DIR=DIR set, a new directory
    inside DIR that is kept (agent, hub and ping logs to read after a run)."""
    if os.environ.get("KEEP_E2E_DIR"):
        yield tempfile.mkdtemp(dir=os.environ["KEEP_E2E_DIR"])
        return
    with tempfile.TemporaryDirectory(prefix="riftgate-e2e-") as path:
        yield path


@pytest.fixture
def timing(request):
    """Records a measurement (time, path); all are printed at the end of the run, even with -q and captured output."""
    def record(text: str) -> None:
        line = f"{request.node.name}: {text}"
        TIMINGS.append(line)
        print(line)
    return record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item, so fixtures can tell in teardown whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def did_fail(request):
    """A function telling, in a fixture's teardown, whether the test failed (or never ran)."""
    def check() -> bool:
        report = getattr(request.node, "report_call", None)
        return report is None or report.failed
    return check


@pytest.fixture
def start_mesh(workdir, did_fail):
    """A function starting a mesh on a lab topology: `start_mesh(topology, first_ping, turn=True, hub_options=(),
    own_tokens=())` starts the hub (with `hub_options` added to `riftgate-hub serve`) and agents a and b (those named
    in `own_tokens` each on a token of its own), waits (up to `first_ping` seconds) until a pings b, and returns the `Deployment`. Logs are printed
    when that start fails, and in teardown when the test failed."""
    deployments = []

    def start(topology, first_ping: float, turn: bool = True, hub_options: tuple[str, ...] = (),
              own_tokens: tuple[str, ...] = ()):
        deployment = Deployment(topology, workdir, turn=turn, hub_options=hub_options)
        deployments.append(deployment)
        deployment.start_hub()
        for role in own_tokens:
            deployment.give_own_token(role)
        for role in ("a", "b"):
            deployment.agent(role).start()
        try:
            deployment.wait_for_ping("a", "b", timeout=first_ping)
        except BaseException:
            print(deployment.logs())
            deployments.remove(deployment)  # printed already
            raise
        return deployment

    yield start
    if did_fail():
        for deployment in deployments:
            print(deployment.logs())


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("riftgate lab measurements")
        for line in TIMINGS:
            terminalreporter.write_line(line)
