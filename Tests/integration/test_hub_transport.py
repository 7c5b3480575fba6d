"""Transport options of the real hub: TLS, the all-interfaces default with dual-stack STUN, plain HTTP endpoints."""
import os
import shutil
import socket
import ssl
import subprocess

import pytest
from rgclient import Agent
from test_hub_stun_turn import attributes_of, stun_request, xor_address


@pytest.fixture
def certificate(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    cert, key = tmp_path / "hub.pem", tmp_path / "hub.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=30)
    return cert, key


def test_tls_wss_with_a_trusted_certificate(hub_factory, certificate):
    cert, key = certificate
    hub = hub_factory(("--tls-cert", str(cert), "--tls-key", str(key)), start=False)
    _, token = hub.create_token("home")
    hub.ssl_context = ssl.create_default_context(cafile=str(cert))
    hub.start()
    assert hub.scheme == "wss"
    welcome = Agent(hub, "home", token).join()
    assert welcome["network"] == "home"
    # Without trusting the certificate the client refuses the hub.
    untrusted = Agent(hub, "home", token)
    hub.ssl_context = ssl.create_default_context()
    with pytest.raises(ssl.SSLError):
        untrusted.connect()


def test_unreadable_tls_files_fail_at_start_with_a_clear_error(hub_factory, tmp_path):
    hub = hub_factory(("--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", str(tmp_path / "missing.key")), start=False)
    with pytest.raises(AssertionError) as failure:
        hub.start(timeout=10)
    assert "missing.pem" in str(failure.value)


def test_all_interfaces_with_dual_stack_stun(hub_factory):
    hub = hub_factory(start=False)
    hub.listen = ":0"
    _, token = hub.create_token("home")
    hub.start()
    assert Agent(hub, "home", token).join()["network"] == "home"
    sources = [(socket.AF_INET, "127.0.0.1")]
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
        sources.append((socket.AF_INET6, "::1"))
    except OSError:
        pass  # no IPv6 loopback here: the IPv4 half is still checked
    for family, address in sources:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(3)
            sock.bind((address, 0))
            transaction = os.urandom(12)
            sock.sendto(stun_request(transaction), (address, hub.stun_port))
            response, _ = sock.recvfrom(2048)
            assert xor_address(attributes_of(response)[0x0020], transaction) == sock.getsockname()[:2]


def test_port_in_use_fails_with_a_clear_error(hub_factory):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        hub = hub_factory(start=False)
        hub.listen = f"127.0.0.1:{blocker.getsockname()[1]}"
        with pytest.raises(AssertionError) as failure:
            hub.start(timeout=10)
        assert "in use" in str(failure.value).lower() or "address" in str(failure.value).lower()
