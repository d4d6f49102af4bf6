#!/usr/bin/env python3
"""keepalive_client.py PORT PATH COUNT [CONNECTIONS]

Sends COUNT GET requests for PATH to 127.0.0.1:PORT over CONNECTIONS keep-alive connections
(default 4), round-robin, one request at a time: send, read the whole reply, then the next. The
request is the one the callgrind anchors in the project notes were measured with (Host,
User-Agent, Accept), so instruction counts compare. Prints "OK/COUNT ok" and exits 1 unless every
reply was a 200.
"""
import socket
import sys


def read_reply(sock, pending):
    """Reads one reply (head + Content-Length body); returns (status line, bytes left over)."""
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        pending += chunk
    head, _, rest = pending.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection mid-body")
        rest += chunk
    return lines[0], rest[length:]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    connections = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    request = (f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\n"
               "Accept: */*\r\n\r\n").encode()
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(connections)]
    pending = [b""] * connections
    ok = 0
    for i in range(count):
        k = i % connections
        socks[k].sendall(request)
        status, pending[k] = read_reply(socks[k], pending[k])
        ok += status.startswith(b"HTTP/1.1 200")
    for sock in socks:
        sock.close()
    print(f"{ok}/{count} ok")
    sys.exit(0 if ok == count else 1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C in bench/run: it cleans up; no traceback
        sys.exit(130)
