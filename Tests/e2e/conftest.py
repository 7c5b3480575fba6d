import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab"))

from lab import Lab, can_build_labs  # noqa: E402

TIMINGS: list[str] = []


@pytest.fixture
def lab():
    reason = can_build_labs()
    if reason:
        pytest.skip(reason)
    with Lab() as built:
        yield built


@pytest.fixture
def workdir():
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


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("riftgate lab measurements")
        for line in TIMINGS:
            terminalreporter.write_line(line)
