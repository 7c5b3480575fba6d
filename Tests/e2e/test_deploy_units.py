"""The deploy files on their own: the systemd units (systemd-analyze), their agreement with the binaries, the
no-systemd runner deploy/run-unit.sh, and the certbot deploy hook. test_self_hosting.py runs them all together."""
import json
import os
import re
import shutil
import subprocess

import pytest
from machines import can_build_machines, run_in_private_filesystem
from riftgate_lab import binary

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
UNITS = {name: os.path.join(DEPLOY, "systemd", f"{name}.service") for name in ("riftgate-hub", "riftgate")}
# Exposure scores of `systemd-analyze security` (0 = fully sandboxed, 10 = none); the units score 1.5 and 1.9.
MAXIMUM_EXPOSURE = {"riftgate-hub": 2.0, "riftgate": 2.5}
CAPABILITIES = {"CAP_NET_BIND_SERVICE": 10, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13}


def systemd_analyze() -> list[str]:
    """The systemd-analyze command line. As root it runs with a private /run/systemd, where it would otherwise leave
    a marker file on this shared machine."""
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.skip("systemd-analyze is missing: deploy/install-deps.sh installs the systemd package")
    if os.geteuid() != 0 or not os.path.isdir("/run/systemd"):
        return [path]
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
            'mount -t tmpfs tmpfs /run/systemd && exec "$0" "$@"', path]


def service_section(name: str) -> dict:
    """The [Service] settings of a unit; settings given more than once are joined with spaces."""
    merged, section = {}, None
    for line in open(UNITS[name]).read().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]":
            key, _, value = line.partition("=")
            merged[key] = (merged.get(key, "") + " " + value).strip()
    return merged


def units_with_stub_binaries(directory) -> list[str]:
    """Copies of the units whose ExecStart= binaries exist (verify checks that they are executable): the only change
    is the directory of the binary."""
    stubs = directory / "bin"
    stubs.mkdir()
    copies = []
    for name, path in UNITS.items():
        stub = stubs / name
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
        copy = directory / f"{name}.service"
        copy.write_text(open(path).read().replace("ExecStart=/usr/local/bin/", f"ExecStart={stubs}/"))
        copies.append(str(copy))
    return copies


def test_units_pass_systemd_analyze_verify(tmp_path):
    analyze = systemd_analyze()
    copies = units_with_stub_binaries(tmp_path)
    result = subprocess.run([*analyze, "verify", *copies], capture_output=True, text=True, timeout=60)
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "riftgate" in line]
    assert result.returncode == 0 and ours == [], result.stdout + result.stderr
    # The check can fail: a misspelt setting is only a warning (status 0), which the line filter above catches.
    broken = tmp_path / "riftgate-broken.service"
    broken.write_text(open(copies[1]).read().replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"))
    result = subprocess.run([*analyze, "verify", str(broken)], capture_output=True, text=True, timeout=60)
    assert [line for line in result.stderr.splitlines() if "riftgate" in line and "Unknown key 'NoNewPrivilege'" in line]


@pytest.mark.parametrize("name", sorted(UNITS))
def test_units_keep_their_sandboxing(tmp_path, name):
    analyze = systemd_analyze()
    copies = {os.path.basename(path)[:-len(".service")]: path for path in units_with_stub_binaries(tmp_path)}
    result = subprocess.run([*analyze, "security", "--offline=yes", copies[name]], capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= MAXIMUM_EXPOSURE[name], result.stdout


def test_agent_unit_grants_only_net_admin_and_bind_service_and_matches_the_agent_paths(tmp_path):
    service = service_section("riftgate")
    assert service["User"] not in ("", "root") and service["Group"] == service["User"] == "riftgate"
    # CAP_NET_BIND_SERVICE: the agent's resolver for peers' names on port 53 of its overlay addresses.
    assert service["AmbientCapabilities"] == service["CapabilityBoundingSet"] == "CAP_NET_ADMIN CAP_NET_BIND_SERVICE"
    assert service["NoNewPrivileges"] == "yes"
    runtime = service["RuntimeDirectory"].split()
    assert "wireguard" in runtime, "wireguard-go's UAPI socket directory /run/wireguard must be writable"
    assert "/dev/net/tun" in service["DeviceAllow"]
    # The unit starts the agent with the configuration `riftgate init` writes by default ...
    executable, *arguments = service["ExecStart"].split()
    assert executable == "/usr/local/bin/riftgate" and arguments[0] == "up"
    config_path = arguments[arguments.index("--config") + 1]
    help_text = subprocess.run([binary("riftgate"), "init", "--help"], capture_output=True, text=True, timeout=10).stdout
    assert f"(default: {config_path})" in " ".join(help_text.split()), help_text
    # ... and that configuration puts the control socket in a RuntimeDirectory= of the unit, owned by its user.
    config = tmp_path / "riftgate.toml"
    subprocess.run([binary("riftgate"), "init", "--config", str(config), "--hub", "wss://hub.example.org", "--network",
                    "home", "--token", "rgt_" + "A" * 43], check=True, capture_output=True, timeout=10)
    socket = re.search(r'^control_socket = "(.*)"$', config.read_text(), re.M).group(1)
    group = re.search(r'^control_group = "(.*)"$', config.read_text(), re.M).group(1)
    assert os.path.dirname(socket) in [f"/run/{name}" for name in runtime], socket
    assert group == service["Group"], "members of the unit's group may use `riftgate status`"
    # A configuration error exits with a status the unit does not restart on (nor a permanent refusal, 77).
    broken = tmp_path / "broken.toml"
    broken.write_text("hub = 1\n")
    status = subprocess.run([binary("riftgate"), "up", "--config", str(broken)], capture_output=True, timeout=10).returncode
    assert str(status) in service["RestartPreventExitStatus"].split() and "77" in service["RestartPreventExitStatus"].split()


def test_hub_unit_runs_unprivileged_with_its_state_directory():
    service = service_section("riftgate-hub")
    assert service["User"] == service["Group"] == "riftgate-hub"
    assert service["AmbientCapabilities"] == service["CapabilityBoundingSet"] == "CAP_NET_BIND_SERVICE"
    words = service["ExecStart"].split()
    assert words[:2] == ["/usr/local/bin/riftgate-hub", "serve"]
    assert words[words.index("--state-dir") + 1] == f"/var/lib/{service['StateDirectory']}"
    assert words[words.index("--config") + 1] == "/etc/riftgate-hub/hub.toml"
    assert service["StateDirectoryMode"] == "0700" and service["ProtectSystem"] == "strict"
    help_text = subprocess.run([binary("riftgate-hub"), "serve", "--help"], capture_output=True, text=True, timeout=10).stdout
    for flag in ("--config", "--state-dir"):
        assert flag in help_text


def run_unit(tmp_path, unit_text: str, script: str = "", timeout: float = 30) -> subprocess.CompletedProcess:
    unit = tmp_path / "test.service"
    unit.write_text(unit_text)
    return run_in_private_filesystem(str(tmp_path / "machine"), script + f'\n"{DEPLOY}/run-unit.sh" "{unit}"\n',
                                     timeout=timeout)


@pytest.fixture
def private_filesystem():
    reason = can_build_machines()
    if reason:
        pytest.skip(reason)


def test_run_unit_starts_the_command_as_the_unit_user_with_only_its_capabilities(tmp_path, private_filesystem):
    unit = """[Unit]
Description=test
[Service]
User=rgtest
Group=rgtest
AmbientCapabilities=CAP_NET_RAW
CapabilityBoundingSet=CAP_NET_RAW
NoNewPrivileges=yes
RuntimeDirectory=rgtest-one rgtest-two
RuntimeDirectoryMode=0750
ExecStart=/usr/bin/awk -f /etc/rgtest.awk /proc/self/status
"""
    # Prints the identity and capabilities of the awk process itself, and whether the runtime directories exist.
    program = r'''/^(Uid|Gid|CapEff|CapBnd|CapAmb|NoNewPrivs):/ { print }
END { print "runtime", system("test -d /run/rgtest-one -a -d /run/rgtest-two -a -O /run/rgtest-one") == 0 }'''
    setup = f"useradd --system --user-group rgtest\ncat > /etc/rgtest.awk <<'EOF'\n{program}\nEOF\n"
    result = run_unit(tmp_path, unit, setup + "id -u rgtest\n", timeout=30)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    uid = lines[0]
    fields = {line.split(":")[0]: line.split()[1:] for line in lines[1:] if ":" in line}
    assert fields["Uid"][0] == uid != "0"
    net_raw = f"{1 << CAPABILITIES['CAP_NET_RAW']:016x}"
    assert fields["CapEff"] == fields["CapBnd"] == fields["CapAmb"] == [net_raw]
    assert fields["NoNewPrivs"] == ["1"]
    assert "runtime 1" in lines


def test_run_unit_removes_runtime_directories_and_passes_the_exit_status(tmp_path, private_filesystem):
    (tmp_path / "exists.service").write_text("[Service]\nRuntimeDirectory=rgtest\nExecStart=/usr/bin/test -d /run/rgtest\n")
    (tmp_path / "fails.service").write_text("[Service]\nExecStart=/bin/false\n")
    runner = os.path.join(DEPLOY, "run-unit.sh")
    script = f"""set +e
"{runner}" "{tmp_path}/exists.service"; echo "exists $?"
test -e /run/rgtest; echo "left $?"
"{runner}" "{tmp_path}/fails.service"; echo "fails $?"
"""
    result = run_in_private_filesystem(str(tmp_path / "machine"), script)
    assert result.stdout.splitlines() == ["exists 0", "left 1", "fails 1"], result.stdout + result.stderr


def test_run_unit_reads_the_units_drop_ins_in_name_order(tmp_path, private_filesystem):
    # As systemd: Environment= accumulates, a later value wins, and an empty ExecStart= clears the unit's command.
    unit = "[Service]\nEnvironment=RGTEST_A=unit RGTEST_B=unit\nExecStart=/bin/false\n"
    setup = f"""mkdir -p /etc/systemd/system/test.service.d
printf '[Service]\\nEnvironment=RGTEST_B=first\\nExecStart=\\nExecStart=/usr/bin/env\\n' >/etc/systemd/system/test.service.d/10-first.conf
printf '[Service]\\nEnvironment=RGTEST_B=second\\n' >/etc/systemd/system/test.service.d/20-second.conf
printf '[Service]\\nEnvironment=RGTEST_C=ignored\\n' >/etc/systemd/system/test.service.d/30-ignored.txt
"""
    result = run_unit(tmp_path, unit, setup)
    assert result.returncode == 0, result.stderr
    variables = dict(line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("RGTEST_"))
    assert variables == {"RGTEST_A": "unit", "RGTEST_B": "second"}, result.stdout


@pytest.mark.parametrize("setting, message", [
    ("ExecStartPre=/bin/true", "only ExecStartPre=+ / ExecStopPost=+ (run as root) are supported"),
    ("DynamicUser=yes", "DynamicUser= is not supported"),
    ("ExecStart=-/bin/true", "must start with an absolute path"),
    ("ExecStart=/bin/sh -c 'echo $HOME'", "quotes, variables or specifiers"),
])
def test_run_unit_refuses_settings_it_cannot_apply(tmp_path, setting, message):
    lines = ["[Service]", setting]
    if not setting.startswith("ExecStart="):
        lines.append("ExecStart=/bin/true")
    unit = tmp_path / "refused.service"
    unit.write_text("\n".join(lines) + "\n")
    result = subprocess.run([os.path.join(DEPLOY, "run-unit.sh"), str(unit)], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_certbot_hook_installs_the_certificate_for_the_hub_user(tmp_path, private_filesystem):
    lineage = tmp_path / "live"
    lineage.mkdir()
    (lineage / "fullchain.pem").write_text("CERTIFICATE\n")
    (lineage / "privkey.pem").write_text("KEY\n")
    hook = os.path.join(DEPLOY, "certbot", "riftgate-hub-deploy-hook")
    script = f"""groupadd --system riftgate-hub
RENEWED_LINEAGE={lineage} "{hook}"
cd /etc/riftgate-hub/tls && stat -c '%n %a %U %G' . fullchain.pem privkey.pem && cat fullchain.pem privkey.pem
RENEWED_LINEAGE={tmp_path}/nothing "{hook}" || echo "refused $?"
"""
    result = run_in_private_filesystem(str(tmp_path / "machine"), script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [". 750 root riftgate-hub", "fullchain.pem 644 root root",
                                          "privkey.pem 640 root riftgate-hub", "CERTIFICATE", "KEY", "refused 1"]


def test_provisioning_refuses_binaries_that_cannot_run_on_the_machine(tmp_path, private_filesystem):
    hub = binary("riftgate-hub")
    if "libswiftCore" not in subprocess.run(["ldd", hub], capture_output=True, text=True).stdout:
        pytest.skip(f"{hub} is linked statically; this test needs a build that uses the Swift runtime libraries")
    # A fresh Debian machine has no Swift toolchain: hide it, as if it were not installed.
    script = f"""mount -t tmpfs tmpfs /opt/swift 2>/dev/null || mount -t tmpfs tmpfs /usr/lib/swift 2>/dev/null || true
set +e
"{DEPLOY}/provision-hub.sh" --from "{os.path.dirname(hub)}" --domain hub.riftgate.test --no-tls --no-systemd --no-packages
echo "status $?"
test -e /usr/local/bin/riftgate-hub; echo "installed $?"
"""
    result = run_in_private_filesystem(str(tmp_path / "machine"), script)
    if "libswiftCore.so => not found" not in result.stderr:
        pytest.skip("the Swift runtime could not be hidden here (it is not under /opt/swift)")
    assert "--static-swift-stdlib" in result.stderr
    assert result.stdout.splitlines()[-2:] == ["status 1", "installed 1"], result.stdout + result.stderr


def test_release_tarball_holds_what_the_provisioning_scripts_use(tmp_path):
    # Stand-ins for statically linked binaries (make-release refuses ones that need the Swift runtime).
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name in ("riftgate", "riftgate-hub"):
        (stubs / name).write_text("#!/bin/sh\n")
        (stubs / name).chmod(0o755)
    result = subprocess.run([os.path.join(DEPLOY, "make-release.sh"), "--bin-dir", str(stubs), "--output", str(tmp_path / "dist")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    tarball = result.stdout.strip()
    listing = subprocess.run(["tar", "-tzvf", tarball], capture_output=True, text=True, check=True).stdout
    top = os.path.basename(tarball)[:-len(".tar.gz")]
    for path in ("bin/riftgate", "bin/riftgate-hub", "deploy/provision-hub.sh", "deploy/install-agent.sh",
                 "deploy/run-unit.sh", "deploy/lib/common.sh", "deploy/systemd/riftgate.service",
                 "deploy/coturn/turnserver.conf", "deploy/coturn/coturn-socket-buffers.so",
                 "deploy/certbot/riftgate-hub-deploy-hook", "docs/self-hosting.md"):
        executable = path.startswith("bin/") or path.endswith("hook") or (path.endswith(".sh") and "/lib/" not in path)
        mode = "-rwxr-xr-x" if executable else "-rw-r--r--"
        assert re.search(rf"^{mode} root/root .* {re.escape(top)}/{re.escape(path)}$", listing, re.M), path
    checksum = open(tarball + ".sha256").read()
    assert subprocess.run(["sha256sum", "--check", "--strict"], input=checksum, text=True, cwd=os.path.dirname(tarball),
                          capture_output=True).returncode == 0


def test_cloud_init_runs_the_provisioning_script_from_the_release(tmp_path):
    text = open(os.path.join(DEPLOY, "cloud-init.yaml")).read()
    assert text.startswith("#cloud-config\n")
    parsed = subprocess.run(["python3", "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
                            input=text, capture_output=True, text=True, timeout=30)
    if "No module named 'yaml'" in parsed.stderr:
        pytest.skip("python3-yaml is missing (deploy/install-deps.sh installs it)")
    config = json.loads(parsed.stdout)
    (command,) = config["runcmd"]
    assert command[:4] == ["bash", "-euo", "pipefail", "-c"]
    script = command[4]
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0
    # Every option it passes to provision-hub.sh exists, and the token goes to a file, not the console.
    help_text = subprocess.run([os.path.join(DEPLOY, "provision-hub.sh"), "--help"], capture_output=True, text=True).stdout
    options = re.findall(r"(--[a-z-]+)", script.split("provision-hub.sh", 1)[1])
    assert options and all(option in help_text for option in options), options
    assert "--token-file" in options
    variables = set(re.findall(r"\$([A-Z_0-9]+)", script))
    defined = {line.split("=")[0].strip() for line in config["write_files"][0]["content"].splitlines()}
    assert variables <= defined, variables - defined
