"""`riftgate genkey` / `riftgate pubkey` interoperate with `wg genkey` / `wg pubkey` in both directions."""
import shutil
import subprocess

import pytest

from riftgate_lab import binary


def run(args, stdin=""):
    result = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_keys_interoperate_with_wireguard_tools():
    if shutil.which("wg") is None:
        pytest.skip("wireguard-tools (`wg`) is not installed; run deploy/install-deps.sh")
    ours = run([binary("riftgate"), "genkey"])
    assert len(ours) == 44 and ours.endswith("=")
    assert run([binary("riftgate"), "pubkey"], ours + "\n") == run(["wg", "pubkey"], ours + "\n")
    theirs = run(["wg", "genkey"])
    assert run([binary("riftgate"), "pubkey"], theirs + "\n") == run(["wg", "pubkey"], theirs + "\n")
    bad = subprocess.run([binary("riftgate"), "pubkey"], input="not a key\n", capture_output=True, text=True, timeout=10)
    assert bad.returncode != 0 and "private key" in bad.stderr
