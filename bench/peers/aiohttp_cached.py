#!/usr/bin/env python3
"""bench/peers/aiohttp_cached.py — the old stack's answer to TechEmpower's cached-queries test.

aiohttp with redis.asyncio (Debian 12's python3-redis 4.3, with python3-hiredis' parser) for the
cache and asyncpg for the misses, on top of aiohttp_db.py (its routes, envelope and process model):

    GET /bench/cached-queries?count=N   data: N rows {"id":…,"randomNumber":…} of random world ids
                                        (N clamped to 1..500, missing or not an integer: 1)

The same Redis and database work as the bench plugin's route: one MGET of the N keys (there
berth::CacheModel::getMany, one MGET too); the misses in one query (`WHERE id = ANY($1::int[])`);
those rows written back in one pipeline of SETs with the TTL (there CacheModel::putMany).
Keys are `aiohttp:world:<id>` in the same Redis database as Berth's `bench:world:<id>`: the two
servers never share a cached row, so each one's measured runs are served by its own cache.

    python3 aiohttp_cached.py PORT PROCESSES PG_POOL_PER_PROCESS REDIS_POOL_PER_PROCESS

Redis from BERTH_REDIS_HOST/PORT/PASSWORD/DB, PostgreSQL as in aiohttp_db.py, the TTL in seconds
from BENCH_CACHE_TTL_S (default 3600). No access log.
"""
import json
import os
import random

import redis.asyncio as aioredis

import aiohttp_db

KEY = "aiohttp:world:{}"
MISSES_SQL = "SELECT id, randomnumber FROM world WHERE id = ANY($1::int[])"


def world_json(row):
    return json.dumps(row, separators=(",", ":"))


async def cached_queries(request):
    n = aiohttp_db.query_count(request, "count")
    ids = [random.randint(1, 10000) for _ in range(n)]
    cache = request.app["redis"]
    values = await cache.mget([KEY.format(i) for i in ids])
    rows = [None if v is None else json.loads(v) for v in values]
    missing = sorted({i for i, row in zip(ids, rows) if row is None})
    if missing:
        async with request.app["pool"].acquire() as conn:
            found = {r["id"]: {"id": r["id"], "randomNumber": r["randomnumber"]}
                     for r in await conn.fetch(MISSES_SQL, missing)}
        async with cache.pipeline(transaction=False) as batch:
            for row in found.values():
                batch.set(KEY.format(row["id"]), world_json(row), ex=request.app["ttl"])
            await batch.execute()
        rows = [row if row is not None else found.get(i, {"id": i, "randomNumber": None})
                for i, row in zip(ids, rows)]
    return aiohttp_db.envelope(rows)


def app(pg_pool_size, redis_pool_size):
    async def redis_ctx(application):
        pool = aioredis.BlockingConnectionPool(
            host=os.environ["BERTH_REDIS_HOST"], port=int(os.environ["BERTH_REDIS_PORT"]),
            password=os.environ.get("BERTH_REDIS_PASSWORD") or None,
            db=int(os.environ.get("BERTH_REDIS_DB", "0")), max_connections=redis_pool_size)
        application["redis"] = aioredis.Redis(connection_pool=pool)
        yield
        await application["redis"].close()
        await pool.disconnect()

    application = aiohttp_db.app(pg_pool_size)
    application["ttl"] = int(os.environ.get("BENCH_CACHE_TTL_S", "3600"))
    application.cleanup_ctx.append(redis_ctx)
    application.router.add_get("/bench/cached-queries", cached_queries)
    return application


if __name__ == "__main__":
    aiohttp_db.main(app, sizes=2, usage=__doc__)
