import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab"))

from lab import Lab, can_build_labs  # noqa: E402


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
