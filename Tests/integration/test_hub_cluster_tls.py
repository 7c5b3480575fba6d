"""A hub cluster member talking to NATS over TLS with a user and password (issue 14, docs/scaling.md): a nats-server
that requires TLS (certificate from a private CA made here with openssl) and authorization; the hub connects with
`--nats tls://user:password@…` and `--nats-ca-file`, and never logs the password. Without the CA file the handshake
fails on the unknown issuer; with a wrong password the server refuses it. Every wait is bounded."""
import shutil
import subprocess

import pytest
from hubharness import Hub
from natscluster import MISSING_REASON, SERVER, free_ports

pytestmark = pytest.mark.skipif(SERVER is None or shutil.which("openssl") is None, reason=MISSING_REASON + " (and openssl)")

PASSWORD = "nats-Pw-7f3c"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


@pytest.fixture
def tls_nats(tmp_path):
    """A nats-server requiring TLS and a user/password; yields (port, CA file)."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-subj", "/CN=riftgate test CA", cwd=tmp_path)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=tmp_path)
    (tmp_path / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=tmp_path)
    (port,) = free_ports(1)
    (tmp_path / "nats.conf").write_text(
        f"listen: 127.0.0.1:{port}\n"
        f'tls {{ cert_file: "{tmp_path}/server.pem", key_file: "{tmp_path}/server.key" }}\n'
        f'authorization {{ user: riftgate, password: "{PASSWORD}" }}\n')
    log = open(tmp_path / "nats.log", "w")
    process = subprocess.Popen([SERVER, "-c", str(tmp_path / "nats.conf")], stdout=log, stderr=subprocess.STDOUT)
    try:
        yield port, str(tmp_path / "ca.pem")
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def member(tmp_path, name, url, *extra):
    hub = Hub(tmp_path / name, ("--nats", url, "--hub-id", name, *extra))
    hub.create_network("home")
    return hub


def test_hub_joins_nats_over_tls_with_a_password_and_a_private_ca(tls_nats, tmp_path):
    port, ca_file = tls_nats
    good = member(tmp_path, "good", f"tls://riftgate:{PASSWORD}@127.0.0.1:{port}", "--nats-ca-file", ca_file)
    untrusted = member(tmp_path, "untrusted", f"tls://riftgate:{PASSWORD}@127.0.0.1:{port}")
    wrong = member(tmp_path, "wrong", f"tls://riftgate:not-it@127.0.0.1:{port}", "--nats-ca-file", ca_file)
    try:
        for hub in (good, untrusted, wrong):
            hub.start()
        assert good.wait_for_log("cluster bus connected", timeout=15), "\n".join(good.log_lines)
        assert untrusted.wait_for_log("(certificate|issuer).*NATS unreachable", timeout=15), "\n".join(untrusted.log_lines)
        assert wrong.wait_for_log("[Aa]uthorization.*NATS unreachable", timeout=15), "\n".join(wrong.log_lines)
        for hub in (untrusted, wrong):
            assert not any("cluster bus connected" in line for line in hub.log_lines)
        for hub in (good, untrusted, wrong):
            assert not any(PASSWORD in line or "not-it" in line for line in hub.log_lines), "a NATS password was logged"
    finally:
        for hub in (good, untrusted, wrong):
            hub.stop()
