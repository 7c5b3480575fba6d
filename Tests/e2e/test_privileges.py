"""Without CAP_NET_ADMIN the agent refuses to start and names the capability and how to grant it."""
import os
import shutil
import subprocess

import pytest

from lab import run
from riftgate_lab import binary


def test_agent_without_net_admin_names_the_missing_capability(workdir):
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv (util-linux) to drop to an unprivileged user")
    config = os.path.join(workdir, "riftgate.toml")
    run(binary("riftgate"), "init", "--config", config, "--hub", "ws://192.0.2.1:8443", "--network", "home",
        "--token", "rgt_" + "A" * 43, "--interface", "rgpriv0")
    os.chmod(workdir, 0o755)
    os.chown(os.path.join(workdir, "secrets.toml"), 65534, 65534)  # nobody owns its secrets, mode stays 0600
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
         binary("riftgate"), "up", "--config", config], capture_output=True, text=True, timeout=30)
    assert result.returncode == 77, result.stderr
    assert "CAP_NET_ADMIN" in result.stderr and "AmbientCapabilities=CAP_NET_ADMIN" in result.stderr, result.stderr
