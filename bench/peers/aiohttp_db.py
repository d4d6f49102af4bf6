#!/usr/bin/env python3
"""bench/peers/aiohttp_db.py — the old stack's answer to TechEmpower's db and queries tests.

aiohttp with an asyncpg pool (Debian 12's python3-aiohttp 3.8 and python3-asyncpg 0.27, the
default asyncio event loop), the same routes and JSON as the bench plugin, envelope included:

    GET /bench/db                 {"status":true,"code":0,"message":"ok","data":{"id":…,"randomNumber":…}}
    GET /bench/queries?queries=N  data: an array of N such rows (N clamped to 1..500, else 1)
    GET /bench/json               {"message":"Hello, World!"} in the envelope (readiness check)

    python3 aiohttp_db.py PORT PROCESSES POOL_PER_PROCESS

PROCESSES processes, each with its own event loop, its own pool of POOL_PER_PROCESS connections
and its own SO_REUSEPORT listening socket on 127.0.0.1:PORT (how TechEmpower runs aiohttp:
a process per CPU). PostgreSQL from BERTH_PG_HOST/PORT/USER/PASSWORD/DATABASE; the world table
is looked up in the schema BENCH_DB_SCHEMA (search_path). No access log.
"""
import asyncio
import json
import multiprocessing
import os
import random
import signal
import sys

import asyncpg
from aiohttp import web

SQL = "SELECT id, randomnumber FROM world WHERE id = $1"


def envelope(data):
    body = json.dumps({"status": True, "code": 0, "message": "ok", "data": data}, separators=(",", ":"))
    return web.Response(text=body, content_type="application/json")


def query_count(request, name="queries"):
    """TechEmpower's rule: ?NAME= clamped to 1..500; missing or not an integer: 1."""
    try:
        n = int(request.query.get(name, "1"))
    except ValueError:
        return 1
    return 1 if n < 1 else 500 if n > 500 else n


async def db(request):
    async with request.app["pool"].acquire() as conn:
        row = await conn.fetchrow(SQL, random.randint(1, 10000))
    return envelope({"id": row["id"], "randomNumber": row["randomnumber"]})


async def queries(request):
    n = query_count(request)
    rows = []
    async with request.app["pool"].acquire() as conn:
        statement = await conn.prepare(SQL)
        for _ in range(n):
            row = await statement.fetchrow(random.randint(1, 10000))
            rows.append({"id": row["id"], "randomNumber": row["randomnumber"]})
    return envelope(rows)


async def hello(request):
    return envelope({"message": "Hello, World!"})


def app(pool_size):
    async def pool_ctx(application):
        application["pool"] = await asyncpg.create_pool(
            host=os.environ["BERTH_PG_HOST"], port=int(os.environ["BERTH_PG_PORT"]),
            user=os.environ["BERTH_PG_USER"], password=os.environ["BERTH_PG_PASSWORD"],
            database=os.environ["BERTH_PG_DATABASE"], min_size=pool_size, max_size=pool_size,
            server_settings={"search_path": os.environ.get("BENCH_DB_SCHEMA", "bench")})
        yield
        await application["pool"].close()

    application = web.Application()
    application.cleanup_ctx.append(pool_ctx)
    application.router.add_get("/bench/db", db)
    application.router.add_get("/bench/queries", queries)
    application.router.add_get("/bench/json", hello)
    return application


def serve(build, port, sizes):
    web.run_app(build(*sizes), host="127.0.0.1", port=port, reuse_port=True, access_log=None,
                print=None, handle_signals=True)


def main(build=app, sizes=1, usage=__doc__):
    """Serves build(*SIZES) in PROCESSES processes; the command line is PORT PROCESSES SIZES..."""
    if len(sys.argv) != 3 + sizes:
        sys.exit(usage)
    port, processes, *pool_sizes = (int(a) for a in sys.argv[1:])
    children = [multiprocessing.Process(target=serve, args=(build, port, pool_sizes))
                for _ in range(processes)]
    for child in children:
        child.start()

    def stop(*_):
        for child in children:
            if child.is_alive():
                os.kill(child.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()


if __name__ == "__main__":
    main()
