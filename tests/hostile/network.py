# Phones home.
import socket


def place(workload):
    outcomes = []
    for host, port in (("1.1.1.1", 53), ("8.8.8.8", 443), ("127.0.0.1", 22)):
        try:
            socket.create_connection((host, port), timeout=2).close()
            outcomes.append(f"{host}:CONNECTED")
        except OSError as exc:
            outcomes.append(f"{host}:{type(exc).__name__}")
    raise RuntimeError("ATTACK network " + " ".join(outcomes))
