"""Work directories for benchmark runs, kept inside the run's results directory rather than /tmp.

Other test suites on a shared machine clean /tmp/riftgate-* behind them, which once deleted a running benchmark's
files; under bench-results/<run>/work nothing else touches them. A directory is removed when its block succeeds and
kept (logs, configuration) when it fails, for diagnosis. Agent control sockets live inside, so keep paths short
enough for a Unix socket (108 bytes).
"""
from __future__ import annotations

import contextlib
import os
import shutil


@contextlib.contextmanager
def work_directory(root: str, name: str):
    path = os.path.join(root, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, mode=0o700)
    yield path
    shutil.rmtree(path, ignore_errors=True)
