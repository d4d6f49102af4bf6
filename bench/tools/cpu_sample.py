#!/usr/bin/env python3
"""cpu_sample.py ROOT_PID

One snapshot of CPU time, in clock ticks, as a JSON object, so that two snapshots around a
measurement tell how much of the machine other work took meanwhile:
  total  all CPU time of the machine (/proc/stat, every column)
  busy   user + nice + system time of the machine
  steal  time the hypervisor gave to someone else
  ours   user + system time of ROOT_PID's live descendants (every thread) plus what ROOT_PID and
         they have collected from children they waited for (bench/run is ROOT_PID: its servers,
         and wrk once waited for, are in it)
Other work's share of the machine between two snapshots: (Δbusy − Δours) / Δtotal.
"""
import json
import os
import sys


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    return data[data.rindex(")") + 2:].split()  # fields from 3 (state) on; comm may hold spaces


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = int(sys.argv[1])
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, steal = cpu[0], cpu[1], cpu[2], cpu[7] if len(cpu) > 7 else 0
    parent, times = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = stat_fields(name)
        except OSError:
            continue  # exited meanwhile
        pid = int(name)
        parent[pid] = int(fields[1])
        # utime, stime, cutime, cstime are fields 14–17 of /proc/<pid>/stat
        times[pid] = (int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))
    ours = 0
    for pid, (own, waited) in times.items():
        p = pid
        while p > 1 and p != root:
            p = parent.get(p, 0)
        if p == root:
            ours += own + waited
    print(json.dumps({"total": sum(cpu), "busy": user + nice + system, "steal": steal, "ours": ours}))


if __name__ == "__main__":
    main()
