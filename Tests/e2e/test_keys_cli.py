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


def test_init_reads_the_token_from_stdin_and_warns_when_it_is_an_argument(tmp_path):
    """A token on the command line is readable by every local user in /proc/PID/cmdline: `--token -` avoids that, and
    an argument token still works but says so."""
    token = "rgt_" + "A" * 43
    common = ["init", "--hub", "ws://127.0.0.1:1", "--network", "home"]
    piped = subprocess.run([binary("riftgate"), *common, "--config", str(tmp_path / "a.toml"), "--token", "-"],
                           input=token + "\n", capture_output=True, text=True, timeout=10)
    assert piped.returncode == 0 and "warning" not in piped.stderr, piped.stderr
    argument = subprocess.run([binary("riftgate"), *common, "--config", str(tmp_path / "b.toml"), "--token", token],
                              capture_output=True, text=True, timeout=10)
    assert argument.returncode == 0, argument.stderr
    assert "visible to every local user" in argument.stderr and "--token -" in argument.stderr
    assert token not in argument.stderr + argument.stdout, "the warning never repeats the token"
