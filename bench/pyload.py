#!/usr/bin/env python3
"""The reference: the benchmark's workload in plain Python asyncio + aiohttp.

    python3 bench/pyload.py URL ORDERS [--burst] [--speed N]

Each order is a Dada happy path of 5 realmock updates (first spread over 10 s, the rest 5-15 s
apart, or all at 0 s with --burst), each sent at its planned instant from one start; prints the
lateness p50/p99/max in milliseconds, measured from the planned instant to the moment the
request is handed to aiohttp.
"""

import asyncio
import hashlib
import json
import random
import sys
import time

import aiohttp

SHOPID, APPSECRET = "dadaaee18818d97e236", "1c6f40492d6d89caaad80b85f7d31670"
PATH = "/cgi-bin/express/local/business/realmock_update_order"


async def order(session, url, token, index, start, burst, speed, rng, lateness):
    shop_order_id = f"py-{int(start)}-{index}"
    sign = hashlib.sha1((SHOPID + shop_order_id + APPSECRET).encode()).hexdigest()
    at = 0.0 if burst else rng.uniform(0, 10)
    loop = asyncio.get_running_loop()
    for status in (102, 201, 202, 301, 302):
        planned = start + at / speed
        delay = planned - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lateness.append((loop.time() - planned) * 1000)
        body = {"shopid": SHOPID, "shop_order_id": shop_order_id, "action_time": int(time.time()),
                "order_status": status, "action_msg": "", "delivery_sign": sign}
        async with session.post(f"{url}{PATH}?access_token={token}", json=body) as answer:
            await answer.read()
        at += 0.0 if burst else rng.uniform(5, 15)


async def main():
    url, orders = sys.argv[1], int(sys.argv[2])
    burst = "--burst" in sys.argv
    speed = float(sys.argv[sys.argv.index("--speed") + 1]) if "--speed" in sys.argv else 1.0
    rng = random.Random(7)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/cgi-bin/stable_token", json={
                "grant_type": "client_credential", "appid": "wxsimulate0000dev",
                "secret": "simulate-dev-secret"}) as answer:
            token = (await answer.json())["access_token"]
        lateness = []
        start = asyncio.get_running_loop().time()
        await asyncio.gather(*(order(session, url, token, i, start, burst, speed, rng, lateness)
                               for i in range(orders)))
    lateness.sort()
    pick = lambda p: lateness[min(len(lateness) - 1, round(p / 100 * (len(lateness) - 1)))]
    print(json.dumps({"p50_ms": pick(50), "p99_ms": pick(99), "max_ms": lateness[-1]}))


if __name__ == "__main__":
    asyncio.run(main())
