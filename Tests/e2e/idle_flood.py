"""Opens COUNT TCP connections to HOST:PORT that send nothing, reports after 2 s how many the server closed at once and
how many it still holds (one JSON line on standard output), then holds them for HOLD seconds.

Run inside a lab namespace by Tests/e2e/test_hub_pending_limit.py: a host that wants the hub's descriptors."""
import json
import socket
import sys
import time

host, port, count, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
sockets = [socket.create_connection((host, port), timeout=5) for _ in range(count)]
time.sleep(2)
closed = 0
for sock in sockets:
    sock.setblocking(False)
    try:
        closed += sock.recv(1) == b""
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print(json.dumps({"closed": closed, "open": count - closed}), flush=True)
time.sleep(hold)
