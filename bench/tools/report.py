#!/usr/bin/env python3
"""report.py --raw DIR --out PREFIX --parts "instructions throughput idle db cache" [--meta KEY=VALUE ...]

Merges the measurements bench/run left in DIR (one JSON file each) into PREFIX.json and a
markdown report PREFIX.md, with the machine, the targets next to each figure and PASS/FAIL.
Exits 3 when a figure of a part that was run is missing, else 0 (a failed target is not an error:
this is a report).
"""
import argparse
import datetime
import glob
import json
import os
import platform
import statistics

from latency_probe import summary

# The targets of the engine issue.
INSTRUCTION_TARGETS = {"berth_json": 12000, "berth_plaintext": 9000}
TRACING_RATIO_TARGET = 1.15                       # traced + access log ≤ this × both off (json)
RATIO_TARGETS = {"nginx": 0.95, "canned": 0.90}  # Berth requests/s at least this share of theirs
RATIO_CONNECTIONS = (64, 256)                     # ...at these connection counts
P99_TARGET_MS = {64: 5.0, 256: 10.0}
IDLE_SLOWDOWN_TARGET = 0.10                       # idle connections slow a request by less than this
IDLE_RSS_TARGET_MB = 20.0
DB_RATIO_TARGET = 2.0                             # Berth /bench/db requests/s ≥ 2 × aiohttp+asyncpg...
DB_RATIO_CONNECTIONS = 64                         # ...at this connection count
CACHE_RATIO_TARGET = 2.0                          # Berth /bench/cached-queries requests/s ≥ 2 × aiohttp
                                                  # (our goal, in line with the db part; not the issue's)...
CACHE_RATIO_CONNECTIONS = 64                      # ...at this connection count

LABELS = {
    "berth_json": "Berth GET /bench/json",
    "berth_plaintext": "Berth GET /bench/plaintext",
    "nginx": "nginx `return 200`, access log on",
    "canned": "canned epoll loop (floor)",
    "berth_json_idle": "Berth GET /bench/json, 10,000 idle connections open",
    "berth_json_plain": "Berth GET /bench/json, access log and tracing off",
    "berth_json_traced": "Berth GET /bench/json, tracing 100% (to a file) and access log on",
    "berth_db": "Berth GET /bench/db",
    "aiohttp_db": "aiohttp + asyncpg GET /bench/db",
    "berth_queries": "Berth GET /bench/queries?queries=N",
    "aiohttp_queries": "aiohttp + asyncpg GET /bench/queries?queries=N",
    "berth_cached": "Berth GET /bench/cached-queries?count=N",
    "aiohttp_cached": "aiohttp + redis GET /bench/cached-queries?count=N",
}
DB_SERVERS = ("berth_db", "aiohttp_db", "berth_queries", "aiohttp_queries")
DB_PEERS = {"berth_db": "aiohttp_db", "berth_queries": "aiohttp_queries"}
CACHE_SERVERS = ("berth_cached", "aiohttp_cached")
CACHE_PEERS = {"berth_cached": "aiohttp_cached"}
BERTH = ("berth_json", "berth_plaintext")
SERVERS = ("berth_json", "berth_plaintext", "nginx", "canned")


def load(path):
    with open(path) as f:
        return json.load(f)


def machine(meta):
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    distro = ""
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    distro = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "os": distro,
        **meta,
    }


def berth_statuses(path):
    """Requests berthd answered, by status, from its Prometheus text (berth_http_requests_total)."""
    statuses = {}
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("berth_http_requests_total{"):
                    labels, _, value = line.rpartition(" ")
                    status = labels.split('status="', 1)[1].split('"', 1)[0]
                    statuses[status] = statuses.get(status, 0) + int(float(value))
    except (OSError, IndexError, ValueError):
        pass
    return statuses


def mark(ok):
    return "PASS" if ok else "FAIL"


def num(value):
    return f"{value:,.0f}"


def ms(us):
    return f"{us / 1000:.2f} ms"


def errors_cell(r, verdict=""):
    """A wrk row's errors over all rounds: the total, VERDICT (PASS/FAIL) when it has a target, the kinds."""
    cell = f"{r['errors_total']:,}" + (f" {verdict}" if verdict else "")
    if r["errors_total"]:
        cell += " (" + ", ".join(f"{k} {v:,}" for k, v in r["errors"].items() if v) + ")"
    return cell


def other_load_cell(r):
    """The share of the machine's CPU that other processes (and the hypervisor, as steal) took."""
    cell = f"{r['other_cpu_share']:.0%}"
    if r["steal_share"] >= 0.005:
        cell += f" + {r['steal_share']:.0%} steal"
    return cell


def table_order(runs, servers, connections):
    """(server, connections, run) for every measured run, server by server."""
    for sid in servers:
        for c in connections:
            if (sid, c) in runs:
                yield sid, c, runs[(sid, c)]


class Report:
    def __init__(self, raw, parts, meta):
        self.raw, self.parts = raw, parts
        self.data = {"machine": machine(meta), "targets": [], "missing": []}
        self.lines = []

    def target(self, name, figure, target, ok):
        self.data["targets"].append({"target": name, "figure": figure, "limit": target, "pass": ok})

    def missing(self, what):
        self.data["missing"].append(what)

    # --- Instructions per request -------------------------------------------------------------

    def instructions(self):
        rows = []
        idle = "idle" in self.parts
        for sid in SERVERS + ("berth_json_plain", "berth_json_traced") + (("berth_json_idle",) if idle else ()):
            path = os.path.join(self.raw, f"instructions.{sid}.json")
            if not os.path.exists(path):
                self.missing(f"instructions per request: {LABELS[sid]}")
                continue
            r = load(path)
            r["per_request"] = (r["i3000"] - r["i1000"]) // 2000
            rows.append(r)
        self.data["instructions"] = rows
        out = self.lines
        out += ["### Instructions per request (callgrind)", "",
                "User-space instructions of the whole server process (every thread), keep-alive, "
                "(I3000 − I1000) / 2000.", "",
                "| server | instructions / request | target | |", "|---|---:|---|---|"]
        for r in rows:
            sid, value = r["id"], r["per_request"]
            if sid in INSTRUCTION_TARGETS:
                limit = INSTRUCTION_TARGETS[sid]
                ok = value <= limit
                self.target(f"{LABELS[sid]}: ≤ {num(limit)} instructions/request", value, limit, ok)
                out.append(f"| {LABELS[sid]} | {num(value)} | ≤ {num(limit)} | {mark(ok)} |")
            elif sid == "berth_json_plain":
                out.append(f"| {LABELS[sid]} | {num(value)} | (the tracing ratio's base) | |")
            elif sid == "berth_json_traced":
                plain = next((p["per_request"] for p in rows if p["id"] == "berth_json_plain"), None)
                if plain:
                    ratio = value / plain
                    ok = ratio <= TRACING_RATIO_TARGET
                    self.target(f"{LABELS[sid]}: ≤ {TRACING_RATIO_TARGET:.2f} × access log and tracing off",
                                round(ratio, 3), TRACING_RATIO_TARGET, ok)
                    out.append(f"| {LABELS[sid]} | {num(value)} | {ratio:.3f} × off, ≤ {TRACING_RATIO_TARGET:.2f} "
                               f"| {mark(ok)} |")
                else:
                    self.missing("the tracing ratio: no access-log-and-tracing-off row")
                    out.append(f"| {LABELS[sid]} | {num(value)} | | |")
            elif sid == "berth_json_idle":
                n = self.data["machine"].get("idle_connections", "10000")
                out.append(f"| {LABELS[sid].replace('10,000', f'{int(n):,}')} | {num(value)} "
                           "| (load-independent side of the idle test) | |")
            else:
                note = "reference" if sid == "nginx" else "floor"
                out.append(f"| {LABELS[sid]} | {num(value)} | {note} | |")
        out.append("")
        if idle:
            out += ["The idle-connections row includes berthd's once-a-second timeout sweep over the open "
                    "connections during the 3,000-request run's extra seconds under valgrind.", ""]

    # --- wrk -----------------------------------------------------------------------------------

    def wrk_runs(self, kind):
        """The median run of each (server, connections) among the raw files KIND.*.json."""
        rounds = {}
        for path in glob.glob(os.path.join(self.raw, f"{kind}.*.json")):
            r = load(path)
            s = r["stats"]
            errors = s["errors"]
            before, after = r["cpu"]
            total = max(1, after["total"] - before["total"])
            others = (after["busy"] - before["busy"]) - (after["ours"] - before["ours"])
            rounds.setdefault((r["id"], r["connections"]), []).append({
                "id": r["id"], "connections": r["connections"], "round": r.get("round", 1),
                "threads": r["threads"],
                "duration_s": r["duration_s"], "requests": s["requests"],
                "requests_per_s": s["requests"] / (s["duration_us"] / 1e6),
                "latency_us": s["latency_us"], "errors": errors,
                "errors_total": sum(errors.values()),
                "other_cpu_share": round(max(0, others) / total, 3),
                "steal_share": round((after["steal"] - before["steal"]) / total, 3),
            })
        # Each row is its median run by requests/s (with that run's latencies), so that one slow
        # spell of a shared machine does not decide a ratio; every run stays in the JSON.
        # Errors count over every round, not only the median one.
        expected_rounds = int(self.data["machine"].get("rounds", "1"))
        runs = {}
        for key, measured in rounds.items():
            measured.sort(key=lambda m: m["requests_per_s"])
            median = dict(measured[(len(measured) - 1) // 2])
            median["rounds_requests_per_s"] = [round(m["requests_per_s"]) for m in measured]
            median["errors_total"] = sum(m["errors_total"] for m in measured)
            median["errors"] = {k: sum(m["errors"].get(k, 0) for m in measured) for k in median["errors"]}
            if len(measured) < expected_rounds:
                self.missing(f"wrk: {LABELS[key[0]]} at {key[1]} connections: "
                             f"{len(measured)} of {expected_rounds} rounds measured")
            runs[key] = median
        return runs

    def measured_runs(self, kind, servers):
        """The median runs of KIND (wrk_runs) and the connection counts; names every run missing."""
        runs = self.wrk_runs(kind)
        connections = sorted({int(c) for c in self.data["machine"]["connections"].split()})
        for sid in servers:
            for c in connections:
                if (sid, c) not in runs:
                    self.missing(f"wrk: {LABELS[sid]} at {c} connections")
        return runs, connections

    def throughput(self):
        runs, connections = self.measured_runs("wrk", SERVERS)
        out = self.lines
        out += ["### Requests/s and latency (wrk)", "",
                f"wrk {self.data['machine']['wrk_threads']} threads, "
                f"{self.data['machine']['warmup_s']} s warm-up then {self.data['machine']['duration_s']} s "
                f"per run, keep-alive; the table was measured {self.data['machine'].get('rounds', '1')} times "
                "over (every server and connection count once per round) and each row is its median run. "
                "wrk, the server and the kernel share the machine's CPUs. "
                "Ratios are Berth's requests/s over nginx's and the canned loop's at the same connection "
                "count; their targets apply at 64 and 256 connections, like the p99 targets. "
                "Errors: connect/read/write/timeout socket errors plus non-2xx/3xx replies, summed over "
                "all rounds. "
                "Other load: the share of the machine's CPU time that processes other than this run's "
                "(and the hypervisor, as steal) took during the row — where it is high, the row says "
                "more about the machine than about the server.", "",
                "| server | connections | requests/s | × nginx (≥ 0.95) | × canned (≥ 0.90) "
                "| p50 | p99 (≤ 5 ms @64, ≤ 10 ms @256) | max | errors (none) | other load |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        ratios = []
        for sid, c, r in table_order(runs, SERVERS, connections):
            lat, rps = r["latency_us"], r["requests_per_s"]
            cells = {}
            for ref, limit in RATIO_TARGETS.items():
                other = runs.get((ref, c))
                if sid not in BERTH or other is None:
                    cells[ref] = ""
                    continue
                ratio = rps / other["requests_per_s"]
                entry = {"berth": sid, "versus": ref, "connections": c, "ratio": round(ratio, 3)}
                if c in RATIO_CONNECTIONS:
                    ok = ratio >= limit
                    entry["pass"] = ok
                    self.target(f"{LABELS[sid]}: requests/s ≥ {limit:.2f} × {ref} at {c} connections",
                                round(ratio, 3), limit, ok)
                    cells[ref] = f"{ratio:.2f} {mark(ok)}"
                else:
                    cells[ref] = f"{ratio:.2f}"
                ratios.append(entry)
            p99 = f"{ms(lat['p99'])}"
            verdict = ""
            if sid in BERTH:
                if c in P99_TARGET_MS:
                    ok = lat["p99"] / 1000 <= P99_TARGET_MS[c]
                    self.target(f"{LABELS[sid]}: p99 ≤ {P99_TARGET_MS[c]:g} ms at {c} connections",
                                round(lat["p99"] / 1000, 3), P99_TARGET_MS[c], ok)
                    p99 += f" {mark(ok)}"
                ok = r["errors_total"] == 0
                self.target(f"{LABELS[sid]}: no errors at {c} connections", r["errors_total"], 0, ok)
                verdict = mark(ok)
            out.append(f"| {LABELS[sid]} | {c} | {num(rps)} | {cells['nginx']} | {cells['canned']} "
                       f"| {ms(lat['p50'])} | {p99} | {ms(lat['max'])} | {errors_cell(r, verdict)} "
                       f"| {other_load_cell(r)} |")
        out.append("")
        self.statuses_line(self.data, "berth-metrics.txt", "wrk")
        self.data["throughput"] = sorted(runs.values(), key=lambda r: (SERVERS.index(r["id"]), r["connections"]))
        self.data["ratios"] = ratios

    # --- Berth next to a peer: the db and cache parts ------------------------------------------

    def peer_rows(self, runs, connections, servers, peers, label):
        """Table rows of SERVERS (label(sid) names them); returns the Berth / peer ratios."""
        out = self.lines
        out += ["| server | connections | requests/s | Berth / aiohttp | p50 | p99 | max | errors | other load |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        ratios = []
        for sid, c, r in table_order(runs, servers, connections):
            lat, rps = r["latency_us"], r["requests_per_s"]
            ratio_cell = ""
            peer = runs.get((peers.get(sid), c))
            if sid in peers and peer is not None and peer["requests_per_s"] > 0:
                ratio = rps / peer["requests_per_s"]
                ratios.append({"berth": sid, "versus": peers[sid], "connections": c,
                               "ratio": round(ratio, 3)})
                ratio_cell = f"{ratio:.2f}"
            out.append(f"| {label(sid)} | {c} | {num(rps)} | {ratio_cell} | {ms(lat['p50'])} "
                       f"| {ms(lat['p99'])} | {ms(lat['max'])} | {errors_cell(r)} | {other_load_cell(r)} |")
        out.append("")
        return ratios

    def peer_target(self, runs, connections, name, pair, limit, at):
        """The target "Berth's requests/s ≥ LIMIT × the peer's at AT connections, and no errors"."""
        berth, peer = runs.get((pair[0], at)), runs.get((pair[1], at))
        if berth is not None and peer is not None and peer["requests_per_s"] > 0:
            ratio = berth["requests_per_s"] / peer["requests_per_s"]
            ok = ratio >= limit and berth["errors_total"] == 0
            self.target(name, round(ratio, 3), limit, ok)
            self.lines.extend(["| target | measured | |", "|---|---:|---|",
                               f"| {name} (and no errors) | {ratio:.2f}× ({num(berth['requests_per_s'])} / "
                               f"{num(peer['requests_per_s'])} requests/s, {berth['errors_total']:,} errors) "
                               f"| {mark(ok)} |", ""])
        elif at in connections:
            self.missing(name)

    def statuses_line(self, into, metrics, after):
        """berthd's requests by status from the raw file METRICS: a line, and INTO["berth_statuses"]."""
        statuses = berth_statuses(os.path.join(self.raw, metrics))
        if statuses:
            into["berth_statuses"] = statuses
            self.lines.extend([f"berthd's own count (GET /metrics) after the {after} runs, by status: "
                               + ", ".join(f"{code}: {count:,}" for code, count in sorted(statuses.items()))
                               + ".", ""])

    def peer_setup(self, name, servers):
        """The part's setup (NAME.json), and each server's runs that are missing."""
        runs, connections = self.measured_runs(f"{name}wrk", servers)
        path = os.path.join(self.raw, f"{name}.json")
        return runs, connections, load(path) if os.path.exists(path) else {}

    # --- Database: TechEmpower db and queries ---------------------------------------------------

    def db(self):
        runs, connections, setup = self.peer_setup("db", DB_SERVERS)
        m = self.data["machine"]
        n = setup.get("queries", m.get("db_queries", "20"))
        label = lambda sid: LABELS[sid].replace("=N", f"={n}")
        out = self.lines
        out += ["### Database (TechEmpower db / queries=" + f"{n})", "",
                "`/bench/db`: one row of the 10,000-row `world` table by a random id (1..10000); "
                f"`/bench/queries?queries={n}`: {n} such rows, one query each, on one connection. Both as "
                "JSON in the envelope. Berth: the bench plugin's worker-pool routes, "
                f"`db.bench.pool_max = {setup.get('berth_pool', m.get('db_pool', '?'))}`, access log on. "
                "aiohttp + asyncpg (`bench/peers/aiohttp_db.py`, Debian's packages, asyncio loop): "
                f"{setup.get('peer_processes', '?')} processes (SO_REUSEPORT) × a pool of "
                f"{setup.get('peer_pool_per_process', '?')} connections, no access log. "
                f"Same PostgreSQL ({setup.get('postgres', '?')}, on this machine, sharing its CPUs), "
                f"same table (schema `bench`, {setup.get('world_rows', '?')} rows). "
                f"wrk {m['wrk_threads']} threads, {m['warmup_s']} s warm-up then {m['duration_s']} s per run; "
                f"{m.get('rounds', '1')} round(s), each row its median run. Errors as above.", ""]
        ratios = self.peer_rows(runs, connections, DB_SERVERS, DB_PEERS, label)
        name = f"Berth ≥ {DB_RATIO_TARGET:g}× aiohttp+asyncpg on db at {DB_RATIO_CONNECTIONS} connections"
        self.peer_target(runs, connections, name, ("berth_db", "aiohttp_db"), DB_RATIO_TARGET, DB_RATIO_CONNECTIONS)
        self.peer_finish("db", setup, runs, ratios, DB_SERVERS)

    # --- Cache: TechEmpower cached-queries ------------------------------------------------------

    def cache(self):
        runs, connections, setup = self.peer_setup("cache", CACHE_SERVERS)
        m = self.data["machine"]
        n = setup.get("count", m.get("cache_count", "20"))
        label = lambda sid: LABELS[sid].replace("=N", f"={n}")
        rows = f"{setup['world_rows']:,}" if "world_rows" in setup else "?"
        warm = []
        for key, who in (("warm_berth", "Berth"), ("warm_peer", "aiohttp")):
            check = setup.get(key)
            if check is None:
                self.missing(f"cache: {who}'s cache warmed and checked against the table")
                continue
            warm.append(f"{who} {check['cached']:,} (equal {check['equal']:,}, different "
                        f"{check['different']:,}, unreadable {check['unreadable']:,})")
            if check["missing"] or check["different"] or check["unreadable"]:
                self.missing(f"cache: {who}'s cache warmed with every row of the table, each equal to it "
                             f"(cached {check['cached']:,}, rows without a value {check['missing']:,})")
        out = self.lines
        out += [f"### Cache (TechEmpower cached-queries?count={n})", "",
                f"`/bench/cached-queries?count={n}`: {n} rows of the `world` table by random ids, as JSON in "
                "the envelope, from Redis: on both servers one MGET of the N keys, the misses from PostgreSQL "
                "in one query, "
                f"written back in one pipeline with a TTL of {setup.get('ttl_s', '?')} s. "
                "Berth: the bench plugin's worker-pool route on `berth::CacheModel`, "
                f"`redis.pool_size = {setup.get('berth_redis_pool', m.get('redis_pool', '?'))}`, access log on. "
                "aiohttp + redis.asyncio (hiredis parser) + asyncpg (`bench/peers/aiohttp_cached.py`, "
                f"Debian's packages, asyncio loop): {setup.get('peer_processes', '?')} processes "
                f"(SO_REUSEPORT) × {setup.get('peer_redis_pool_per_process', '?')} Redis connections, no "
                f"access log. Same Redis ({setup.get('redis', '?')}, on this machine) and database, keys "
                "`bench:world:<id>` and `aiohttp:world:<id>`: each server has its own copy of the rows. "
                f"Before the runs each cache was warmed (300 requests of count=500) and every cached row "
                f"compared with the table ({rows} rows) — cached: {'; '.join(warm) or '?'}. "
                f"Redis during the runs (warm-ups included): {setup.get('redis_hits', 0):,} hits, "
                f"{setup.get('redis_misses', 0):,} misses. "
                f"wrk {m['wrk_threads']} threads, {m['warmup_s']} s warm-up then {m['duration_s']} s per run; "
                f"{m.get('rounds', '1')} round(s), each row its median run. Errors as above.", ""]
        ratios = self.peer_rows(runs, connections, CACHE_SERVERS, CACHE_PEERS, label)
        name = (f"Our goal, in line with the db part: Berth ≥ {CACHE_RATIO_TARGET:g}× aiohttp+redis on "
                f"cached-queries at {CACHE_RATIO_CONNECTIONS} connections")
        self.peer_target(runs, connections, name, ("berth_cached", "aiohttp_cached"), CACHE_RATIO_TARGET,
                         CACHE_RATIO_CONNECTIONS)
        self.peer_finish("cache", setup, runs, ratios, CACHE_SERVERS)

    def peer_finish(self, name, setup, runs, ratios, servers):
        self.statuses_line(setup, f"{name}-berth-metrics.txt", name)
        if setup.get("sample_berth") or setup.get("sample_peer"):
            self.lines.extend([f"Sample replies — Berth: `{setup.get('sample_berth', '')}`; aiohttp: "
                               f"`{setup.get('sample_peer', '')}`.", ""])
        setup["runs"] = sorted(runs.values(), key=lambda r: (servers.index(r["id"]), r["connections"]))
        setup["ratios"] = ratios
        self.data[name] = setup

    # --- Idle connections ----------------------------------------------------------------------

    def idle(self):
        path = os.path.join(self.raw, "idle.json")
        if not os.path.exists(path):
            self.missing("idle connections and memory")
            return
        r = load(path)
        n = r["idle_connections"]
        pooled = {False: [], True: []}
        for p in r["probes"]:
            pooled[p["idle"]] += p["probe"].pop("samples_us")
        without, with_ = summary(pooled[False]), summary(pooled[True])
        # The figure: the median over the rounds of each round's change of the median. Each round
        # pairs its two probes close in time, and one round disturbed by other work on the machine
        # does not move it (the pooled medians are shown too).
        medians = {(p["round"], p["idle"]): p["probe"]["median_us"] for p in r["probes"]}
        rounds = sorted({p["round"] for p in r["probes"]})
        changes = [medians[(k, True)] / medians[(k, False)] - 1 for k in rounds]
        slowdown = statistics.median(changes)
        pooled_change = with_["median_us"] / without["median_us"] - 1
        p99_change = with_["p99_us"] / without["p99_us"] - 1
        rss_idle = r["rss_idle_kb"] / 1024
        rss_loaded = r["rss_loaded_kb"] / 1024
        opened = min(h["start"]["opened"] for h in r["holders"])
        failed = max(h["start"]["failed"] for h in r["holders"])
        still = [(h.get("end") or {}).get("still_open") for h in r["holders"]]
        still_open = min(still) if None not in still else None
        ok_slow = slowdown < IDLE_SLOWDOWN_TARGET and opened == n and still_open == n
        ok_rss = rss_idle <= IDLE_RSS_TARGET_MB
        self.target(f"{n:,} idle connections slow a request by < {IDLE_SLOWDOWN_TARGET:.0%} (median)",
                    round(slowdown, 4), IDLE_SLOWDOWN_TARGET, ok_slow)
        self.target(f"berthd idle RSS ≤ {IDLE_RSS_TARGET_MB:g} MB", round(rss_idle, 1), IDLE_RSS_TARGET_MB, ok_rss)
        r.update({"without": without, "with": with_, "slowdown": round(slowdown, 4),
                  "round_changes": [round(c, 4) for c in changes],
                  "pooled_median_change": round(pooled_change, 4), "change_p99": round(p99_change, 4)})
        self.data["idle"] = r
        per_round = ", ".join(f"{medians[(k, False)]:.0f} → {medians[(k, True)]:.0f} µs ({c:+.0%})"
                              for k, c in zip(rounds, changes))
        probe = r["probes"][0]["probe"]
        out = self.lines
        out += ["### Idle connections and memory", "",
                f"GET /bench/json over one keep-alive connection, sequential, {probe['interval_ms']:g} ms apart "
                f"(Python client, send to last byte), in {r['rounds']} rounds of {probe['requests']:,} requests "
                f"without and {probe['requests']:,} with {n:,} idle keep-alive connections open, in alternating "
                f"order (each idle connection has served one request; {opened:,} opened, {failed:,} failed"
                + (f", {still_open:,} still open after the probe" if still_open is not None else "")
                + f"). Medians per round, without → with: {per_round}. The slowdown is the median of the rounds' "
                "changes; latencies in the table are over all rounds' samples. "
                "RSS: berthd's VmRSS with the hello and bench plugins loaded.", "",
                f"| figure | without | with {n:,} idle | change | target | |",
                "|---|---:|---:|---:|---|---|",
                f"| median latency | {without['median_us']:.0f} µs | {with_['median_us']:.0f} µs "
                f"| {pooled_change:+.1%} | | |",
                f"| slowdown (median of the {len(rounds)} rounds' changes) | | | {slowdown:+.1%} "
                f"| < +{IDLE_SLOWDOWN_TARGET:.0%} | {mark(ok_slow)} |",
                f"| p99 latency | {without['p99_us']:.0f} µs | {with_['p99_us']:.0f} µs | {p99_change:+.1%} | | |",
                f"| max latency | {without['max_us']:.0f} µs | {with_['max_us']:.0f} µs | | | |",
                f"| berthd RSS | {rss_idle:.1f} MB | {rss_loaded:.1f} MB | +{rss_loaded - rss_idle:.1f} MB "
                f"| idle ≤ {IDLE_RSS_TARGET_MB:g} MB | {mark(ok_rss)} |", ""]

    def render(self):
        m = self.data["machine"]
        head = [f"## Berth benchmark — {m['date']}", "",
                f"Machine: {m['nproc']} CPU(s), {m['cpu']}; Linux {m['kernel']}; {m['os']}; load average "
                f"{m['load_start']} before the measurements (other work on the machine skews the wrk and "
                "latency figures, not the instruction counts).  ",
                f"Berth {m['berth']}; {m['nginx']}; {m['wrk']}; {m['valgrind']}; {m['cc']}.", ""]
        for part in ("instructions", "throughput", "idle", "db", "cache"):
            if part in self.parts:
                getattr(self, part)()
        targets = self.data["targets"]
        failed = [t for t in targets if not t["pass"]]
        summary = [f"**Targets: {len(targets) - len(failed)} of {len(targets)} PASS.**"]
        if failed:
            summary.append("FAIL: " + "; ".join(f"{t['target']} (measured {t['figure']})" for t in failed) + ".")
        if self.data["missing"]:
            summary.append("NOT MEASURED: " + "; ".join(self.data["missing"]) + ".")
        self.data["summary"] = {"targets": len(targets), "passed": len(targets) - len(failed),
                                "failed": len(failed), "missing": len(self.data["missing"])}
        return "\n".join(head + self.lines + [" ".join(summary), ""])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--parts", default="instructions throughput idle")
    parser.add_argument("--meta", action="append", default=[])
    args = parser.parse_args()
    meta = dict(item.split("=", 1) for item in args.meta)
    report = Report(args.raw, args.parts.split(), meta)
    text = report.render()
    with open(args.out + ".md", "w") as f:
        f.write(text)
    with open(args.out + ".json", "w") as f:
        json.dump(report.data, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return 3 if report.data["missing"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
