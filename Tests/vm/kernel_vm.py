"""Runs a command in a small KVM virtual machine whose kernel has WireGuard, for the kernel backend's tests.

The VM boots Debian's kernel (prepared by `prepare.sh`) with the host's root file system shared read-only over 9p,
so it runs the same binaries, venv and tests as the host; /tmp, /run, /var/lib and /var/log are its own. Nothing
reaches the network: the VM has no network card, and the labs inside build their namespaces as on the host.
"""
import os
import shlex
import shutil
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("RIFTGATE_VM_CACHE", "/var/cache/riftgate-vm")


def unavailable_reason():
    """Why the VM cannot run here, or None."""
    if shutil.which("qemu-system-x86_64") is None:
        return "qemu-system-x86_64 absent (apt-get install qemu-system-x86)"
    for tool in ("busybox", "cpio", "modprobe"):
        if shutil.which(tool) is None and not os.path.exists(f"/bin/{tool}"):
            return f"{tool} absent (deploy/install-deps.sh installs it)"
    return None


def prepare():
    """Builds the cache (kernel package, initramfs) once; returns the kernel version."""
    result = subprocess.run(["sh", os.path.join(HERE, "prepare.sh"), CACHE], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"prepare.sh failed: {result.stderr.strip()}")
    return result.stdout.strip().splitlines()[-1]


def run(command, environment=None, workdir=None, timeout=600, memory_mib=3072):
    """Boots the VM, runs `command` (a shell command line) in it and returns (exit status, output, console log).

    The exit status is None when the VM stopped without one (timeout, a panic): the console log then says why."""
    version = prepare()
    root = os.path.join(CACHE, version)
    out = tempfile.mkdtemp(prefix="riftgate-vm-")
    os.chmod(out, 0o755)
    with open(os.path.join(out, "command.sh"), "w") as handle:
        handle.write(command + "\n")
    variables = dict(environment or {})
    variables.setdefault("WORKDIR", workdir or os.getcwd())
    variables["MODULES_ROOT"] = root
    with open(os.path.join(out, "environment"), "w") as handle:
        for name, value in variables.items():
            handle.write(f"export {name}={shlex.quote(str(value))}\n")
    console = os.path.join(out, "console.log")
    qemu = [
        "qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", str(os.cpu_count() or 2), "-m", str(memory_mib),
        "-nographic", "-no-reboot", "-nic", "none", "-serial", f"file:{console}", "-monitor", "none",
        "-kernel", os.path.join(root, "boot", f"vmlinuz-{version}"),
        "-initrd", os.path.join(CACHE, f"initramfs-{version}.gz"),
        "-append", f"console=ttyS0 panic=-1 loglevel=4 riftgate.stage2={HERE}/stage2.sh riftgate.out={out}",
        "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        "-virtfs", f"local,path={out},mount_tag=out,security_model=none",
    ]
    started = time.monotonic()
    try:
        subprocess.run(qemu, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        pass
    elapsed = time.monotonic() - started

    def read(name):
        try:
            with open(os.path.join(out, name), errors="replace") as handle:
                return handle.read()
        except FileNotFoundError:
            return ""

    status_text = read("status").strip()
    status = int(status_text) if status_text.isdigit() else None
    output, console_log = read("output"), read("console.log")
    shutil.rmtree(out, ignore_errors=True)
    return status, output + f"\n[vm: {elapsed:.1f} s]\n", console_log


if __name__ == "__main__":
    import sys
    reason = unavailable_reason()
    if reason:
        sys.exit(f"kernel_vm: {reason}")
    status, output, console_log = run(" ".join(shlex.quote(a) for a in sys.argv[1:]))
    sys.stdout.write(output)
    if status is None:
        sys.stdout.write(console_log[-4000:])
    sys.exit(1 if status is None else status)
