"""The kernel WireGuard backend end to end: most users' kernels have WireGuard, this machine's does not, so the labs
run again inside a small VM (Tests/vm: Debian's kernel under QEMU, the host's files shared read-only) where every
agent must come up on kernel WireGuard (`RIFTGATE_EXPECT_WIREGUARD_BACKEND`, checked by `Deployment.wait_for_ping`).

Inside: the Swift tests that need kernel WireGuard (a device's lifecycle; its status read over netlink against
`wg show dump`; a keepalive asked for over netlink), then the labs: a LAN's direct path; the port hand-over on a server-reflexive path (nftables rewriting the kernel's own
WireGuard socket's datagrams), then a SIGKILLed agent restarting (a kernel interface outlives its agent, and the
restarted agent must remove it); and failover to the relay and back, which reads WireGuard's counters with `wg`.
QEMU runs without KVM (nested KVM does not boot here), so everything is several times slower than on the host; the
tests' own bounds are generous enough for it."""
import os
import shlex
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "vm"))

import kernel_vm  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KERNEL_UNIT_TESTS = "kernelLifecycle|KernelNetlinkTests"
SELECTION = [
    "Tests/e2e/test_ping.py::test_ping_reports_a_direct_path_on_a_lan",
    "Tests/e2e/test_port_handover.py::test_reflexive_pair_is_handed_over_and_cleaned_up",
    "Tests/e2e/test_faults.py::test_cut_direct_path_moves_to_the_relay_and_back[cut-under-pings]",
]


def test_labs_on_kernel_wireguard(timing):
    reason = kernel_vm.unavailable_reason()
    if reason:
        pytest.skip(reason)
    bin_dir = os.path.abspath(os.environ.get("RIFTGATE_BIN_DIR", os.path.join(ROOT, ".build", "debug")))
    unit_tests = os.path.join(bin_dir, "riftgatePackageTests.xctest")
    if not os.path.exists(unit_tests):
        pytest.fail(f"{unit_tests} is missing: swift build --build-tests")
    # The Swift tests that need kernel WireGuard (skipped on a host without it), then the labs.
    command = " && ".join([
        " ".join([shlex.quote(unit_tests), "--testing-library", "swift-testing", "--filter",
                  shlex.quote(KERNEL_UNIT_TESTS)]),
        " ".join([shlex.quote(sys.executable), "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                  *map(shlex.quote, SELECTION)])])
    status, output, console = kernel_vm.run(
        command, environment={"RIFTGATE_BIN_DIR": bin_dir, "RIFTGATE_EXPECT_WIREGUARD_BACKEND": "kernel"},
        workdir=ROOT, timeout=900)
    summary = [line.strip() for line in output.splitlines()
               if "Test run with" in line or " passed in" in line or " failed" in line or "[vm:" in line]
    timing("inside the VM: " + "; ".join(summary))
    for line in output.splitlines():
        if "failover outage" in line or "hand-over" in line and "->" in line:
            timing("kernel WireGuard: " + line.strip())
    assert status is not None, f"the VM stopped without an exit status; console:\n{console[-4000:]}"
    assert status == 0, f"the labs failed on kernel WireGuard:\n{output[-12000:]}"
    assert "Test run with 4 tests" in output and "skipped" not in output.split("Test run with")[0], \
        f"the kernel unit tests must run, not be skipped:\n{output[:6000]}"
    assert f"{len(SELECTION)} passed" in output, output[-4000:]
