# Phones home: to a listener the test keeps open on this machine's loopback (so a sandbox that let
# connections through would show CONNECTED), and to the sandbox's own loopback.
import socket


def place(workload):
    outcomes = []
    for host, port in (("127.0.0.1", {{PORT}}), ("127.0.0.1", 22)):
        try:
            socket.create_connection((host, port), timeout=2).close()
            outcomes.append(f"{host}:{port}:CONNECTED")
        except OSError as exc:
            outcomes.append(f"{host}:{port}:{type(exc).__name__}")
    raise RuntimeError("ATTACK network " + " ".join(outcomes))
