#!/usr/bin/env python3
"""latency_probe.py PORT PATH COUNT [INTERVAL_MS] [WARMUP]

The latency of a normal request: COUNT sequential GETs of PATH over one keep-alive connection to
127.0.0.1:PORT, each timed from send to the last byte of its reply, INTERVAL_MS apart (default 2,
so the sample spans several seconds and catches periodic work such as timeout sweeps), after
WARMUP untimed requests (default 100). Prints one JSON object: a summary and every sample
(microseconds); exits 1 unless every reply was a 200.
"""
import json
import math
import socket
import statistics
import sys
import time

from keepalive_client import read_reply


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summary(samples):
    """Median, p90, p99, max and mean of latencies in microseconds."""
    ordered = sorted(samples)
    return {
        "median_us": round(statistics.median(ordered), 1),
        "p90_us": round(percentile(ordered, 0.90), 1),
        "p99_us": round(percentile(ordered, 0.99), 1),
        "max_us": round(ordered[-1], 1),
        "mean_us": round(statistics.fmean(ordered), 1),
    }


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    interval = (float(sys.argv[4]) if len(sys.argv) > 4 else 2.0) / 1000.0
    warmup = int(sys.argv[5]) if len(sys.argv) > 5 else 100
    request = (f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\n"
               "Accept: */*\r\n\r\n").encode()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pending = b""
    for _ in range(warmup):
        sock.sendall(request)
        _, pending = read_reply(sock, pending)
    samples, ok = [], 0
    next_start = time.perf_counter()
    for _ in range(count):
        pause = next_start - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        start = time.perf_counter_ns()
        sock.sendall(request)
        status, pending = read_reply(sock, pending)
        samples.append((time.perf_counter_ns() - start) / 1000.0)
        ok += status.startswith(b"HTTP/1.1 200")
        next_start += interval
    sock.close()
    print(json.dumps({"requests": count, "ok": ok, "interval_ms": interval * 1000.0,
                      **summary(samples), "samples_us": [round(x, 1) for x in samples]}))
    sys.exit(0 if ok == count else 1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C in bench/run: it cleans up; no traceback
        sys.exit(130)
