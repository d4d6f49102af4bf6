#!/usr/bin/env python3
"""idle_connections.py PORT COUNT PATH

Opens COUNT keep-alive connections to 127.0.0.1:PORT, sends one GET of PATH on each and reads the
reply (so each is an ordinary keep-alive connection that has served a request), then leaves them
all idle. Prints one JSON line {"opened": N, "failed": N, "seconds": S} once they are all open, and
holds them until SIGTERM or SIGINT; then prints {"still_open": N} — the connections the server
had not closed — resets them (no TIME_WAIT) and exits. Raises its own open-file limit as far as the hard limit
allows and says so if that is too low.
"""
import json
import resource
import signal
import socket
import struct
import sys
import time

from keepalive_client import read_reply

stopping = False


def on_signal(signum, frame):
    global stopping
    stopping = True


def still_open(sock):
    """True when the server has neither closed the connection nor sent anything unasked."""
    try:
        sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        return False  # b"": closed; bytes: something unasked, such as a timeout reply
    except BlockingIOError:
        return True
    except OSError:
        return False


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    port, count, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 64
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            print(json.dumps({"error": f"open-file limit {hard} is below {wanted}; raise ulimit -Hn"}),
                  flush=True)
            sys.exit(1)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    request = (f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\n"
               "Accept: */*\r\n\r\n").encode()
    socks, failed = [], 0
    started = time.monotonic()
    for _ in range(count):
        if stopping:
            break
        sock = None
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(request)
            status, _ = read_reply(sock, b"")
            if not status.startswith(b"HTTP/1.1 200"):
                raise ConnectionError(status.decode(errors="replace"))
            sock.settimeout(None)  # blocking again, so the MSG_DONTWAIT check below does not wait
            socks.append(sock)
        except OSError:
            failed += 1
            if sock is not None:
                sock.close()
    print(json.dumps({"opened": len(socks), "failed": failed,
                      "seconds": round(time.monotonic() - started, 2)}), flush=True)
    while not stopping:
        signal.pause()
    print(json.dumps({"still_open": sum(still_open(s) for s in socks)}), flush=True)
    # Reset rather than close: no TIME_WAIT left behind, so repeated rounds do not run out of ports.
    linger = struct.pack("ii", 1, 0)
    for sock in socks:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        sock.close()


if __name__ == "__main__":
    main()
