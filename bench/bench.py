#!/usr/bin/env python3
"""The scale benchmark: `simulate` against `simulate serve`, side by side with a Python asyncio
script doing the same work (bench/pyload.py, needs aiohttp) and `oha` against the same endpoint
(when installed). Prints one table.

    python3 bench/bench.py              # the full comparison (10,000 and 50,000 orders)
    python3 bench/bench.py --smoke      # a small run that proves the benchmark works (CI)

Workload (the scale issue's): a Dada happy path of 5 steps per order; first steps spread over
10 s, later steps 5-15 s apart; and a burst, every step at 0 s. Lateness is what the JSON
report records per step (planned instant to the moment the request left); peak RSS is the
child's ru_maxrss from wait4. This is a measurement, never a test: nothing here asserts a speed.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
APPID, APP_SECRET = "wxsimulate0000dev", "simulate-dev-secret"


MAX_REPEAT = 1000  # a scenario file's `repeat:` limit


def scenario(orders, burst):
    """One file, `repeat: orders` (at most MAX_REPEAT): the paced workload or the burst."""
    first, later = ("0s", "0s") if burst else ("0s..10s", "5s..15s")
    steps = [(102, first), (201, later), (202, later), (301, later), (302, later)]
    lines = [
        "name: bench",
        "carrier: dada",
        "shop_order_id: bench-{{run_id}}-{{scenario}}-{{repeat}}",
        f"repeat: {orders}",
        "steps:",
    ]
    for status, after in steps:
        lines += [f"  - status: {status}", f"    after: {after}"]
    return "\n".join(lines) + "\n"


def scenario_folder(work, orders, burst):
    """A folder of files of at most MAX_REPEAT orders each, `orders` in all."""
    folder = os.path.join(work, f"bench-{orders}-{'burst' if burst else 'paced'}")
    os.makedirs(folder, exist_ok=True)
    left, number = orders, 0
    while left > 0:
        take = min(left, MAX_REPEAT)
        with open(os.path.join(folder, f"part-{number:04}.yaml"), "w") as f:
            f.write(scenario(take, burst))
        left -= take
        number += 1
    return folder


def run_measured(argv, **kw):
    """Runs argv to its end; (exit code, seconds, peak RSS in MiB). The peak is GNU time's
    (its child's ru_maxrss from wait4) when /usr/bin/time is there: a child forked straight
    from this script would count this script's own memory (the reports it read) as its own."""
    gnu_time = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None
    with tempfile.NamedTemporaryFile("r") as rss_file:
        if gnu_time:
            argv = [gnu_time, "-f", "%M", "-o", rss_file.name] + argv
        started = time.monotonic()
        child = subprocess.Popen(argv, **kw)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.monotonic() - started
        code = os.waitstatus_to_exitcode(status)
        rss_kib = usage.ru_maxrss
        if gnu_time:
            try:
                rss_kib = int(rss_file.read().strip().splitlines()[-1])
            except (ValueError, IndexError):
                pass
    return code, seconds, rss_kib / 1024


class Serve:
    """`simulate serve` on a free loopback port, its access log discarded."""

    def __init__(self, binary):
        self.proc = subprocess.Popen(
            # Every order of the largest run stays known (serve forgets beyond --max-orders).
            [binary, "serve", "--addr", "127.0.0.1:0", "--auto-create", "--max-orders", "1000000"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.url = None
        for line in self.proc.stdout:
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                self.url = found.group(1)
            if line.strip() == "ready":
                break
        if not self.url:
            raise SystemExit("simulate serve did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def simulate_run(binary, url, work, orders, burst, reports, local=False, speed=1, open_html=False):
    """One `simulate` run; a row of figures."""
    path = scenario_folder(work, orders, burst)
    out = {name: os.path.join(work, f"r-{orders}.{ext}") for name, ext in
           (("json", "json"), ("junit", "xml"), ("html", "html"))}
    argv = [binary, "-q", "--seed", "7", "--speed", str(speed), "--max-steps", str(orders * 5)]
    argv += ["--local"] if local else ["--endpoint", url, "--appid", APPID, "--app-secret", APP_SECRET]
    if reports != "none":
        argv += ["--report-json", out["json"]]
    if reports == "all":
        argv += ["--report-junit", out["junit"], "--report-html", out["html"]]
    argv += [path]
    code, seconds, rss = run_measured(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lateness, steps = [], orders * 5
    if os.path.exists(out["json"]):
        steps = 0
        with open(out["json"]) as f:
            report = json.load(f)
        for s in report.get("scenarios", []):
            for step in s.get("steps", []):
                steps += 1
                if step.get("lateness_us") is not None:
                    lateness.append(step["lateness_us"] / 1000)
                elif step.get("lateness_ms") is not None:
                    lateness.append(step["lateness_ms"])
    opened = chromium_open(out["html"]) if open_html else None
    sizes = {k: os.path.getsize(v) for k, v in out.items() if os.path.exists(v)}
    for v in out.values():
        if os.path.exists(v):
            os.remove(v)
    return {
        "exit": code, "seconds": seconds, "rss_mib": rss, "steps": steps,
        "calls_per_s": steps / seconds if seconds else 0,
        "p50": percentile(lateness, 50), "p99": percentile(lateness, 99),
        "max": max(lateness) if lateness else float("nan"), "sizes": sizes, "opened": opened,
    }


def chromium_open(html):
    """(seconds headless Chromium takes to load and render the page, seconds for a blank page:
    its own start-up), or None without Chromium."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium or not os.path.exists(html):
        return None

    def timed(page):
        with tempfile.TemporaryDirectory() as profile:
            argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                    f"--user-data-dir={profile}", "--dump-dom", "file://" + page]
            started = time.monotonic()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
            return time.monotonic() - started

    blank = os.path.join(os.path.dirname(html), "blank.html")
    with open(blank, "w") as f:
        f.write("<!doctype html><title>blank</title>")
    return timed(html), timed(blank)


def python_run(url, orders, burst, speed):
    """bench/pyload.py on the same workload, or None without aiohttp."""
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return None
    argv = [sys.executable, os.path.join(HERE, "pyload.py"), url, str(orders), "--speed", str(speed)]
    if burst:
        argv.append("--burst")
    with tempfile.TemporaryFile("w+") as out:
        code, seconds, rss = run_measured(argv, stdout=out, stderr=subprocess.DEVNULL)
        out.seek(0)
        try:
            figures = json.loads(out.read())
        except ValueError:
            figures = {}
    return {"exit": code, "seconds": seconds, "rss_mib": rss, **figures}


def oha_run(url, requests):
    """oha against realmock on the same endpoint, or None when oha is not installed."""
    oha = shutil.which("oha")
    if not oha:
        return None
    token = json.load(urllib.request.urlopen(urllib.request.Request(
        url + "/cgi-bin/stable_token",
        data=json.dumps({"grant_type": "client_credential", "appid": APPID,
                         "secret": APP_SECRET}).encode(),
        headers={"Content-Type": "application/json"})))["access_token"]
    body = json.dumps({"shopid": "test_shop_id", "shop_order_id": "oha-1", "action_time":
                       int(time.time()), "order_status": 102, "action_msg": ""})
    target = f"{url}/cgi-bin/express/local/business/test_update_order?access_token={token}"
    done = subprocess.run([oha, "-n", str(requests), "-c", "50", "-m", "POST", "-H",
                           "Content-Type: application/json", "-d", body, "--no-tui",
                           "--output-format", "json", target],
                          capture_output=True, text=True)
    try:
        return json.loads(done.stdout)["summary"]["requestsPerSec"]
    except (ValueError, KeyError):
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a small run (CI)")
    parser.add_argument("--binary", help="the simulate binary (default: a release build)")
    parser.add_argument("--orders", nargs=2, type=int, metavar=("SMALL", "LARGE"),
                        help="the two sizes (default 10000 50000; with --smoke 50 100)")
    parser.add_argument("--skip-paced", action="store_true",
                        help="leave out the paced run (it lasts about 70 s at any size)")
    args = parser.parse_args()
    binary = args.binary or os.path.join(ROOT, "target", "release", "simulate")
    if not args.binary and not os.path.exists(binary):
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
    small, large = args.orders or ((50, 100) if args.smoke else (10_000, 50_000))
    # The smoke run compresses the paced workload's 70 s ten times.
    speed = 10 if args.smoke else 1
    rows = []
    with tempfile.TemporaryDirectory() as work:
        serve = Serve(binary)
        try:
            if not args.skip_paced:
                paced = simulate_run(binary, serve.url, work, small, False, "json", speed=speed)
                rows.append(("simulate, paced, --report-json", small, paced))
            bare = simulate_run(binary, serve.url, work, small, True, "all", open_html=True)
            rows.append(("simulate, burst, every report", small, bare))
            big = simulate_run(binary, serve.url, work, large, True, "all")
            rows.append(("simulate, burst, every report", large, big))
            none = simulate_run(binary, serve.url, work, large, True, "none")
            rows.append(("simulate, burst, no report", large, none))
            py = None if args.skip_paced else python_run(serve.url, small, False, speed)
            oha = oha_run(serve.url, small * 5)
        finally:
            serve.stop()
        tenth = max(1, small // 10)
        local_small = simulate_run(binary, None, work, tenth, True, "json", local=True)
        local_big = simulate_run(binary, None, work, small, True, "json", local=True)
    print(f"{'run':34} {'orders':>7} {'exit':>4} {'s':>7} {'calls/s':>9} "
          f"{'p50 ms':>6} {'p99 ms':>6} {'max ms':>6} {'RSS MiB':>8}  report bytes")
    for name, orders, r in rows + [("simulate --local, burst", tenth, local_small),
                                    ("simulate --local, burst", small, local_big)]:
        sizes = " ".join(f"{k}={v}" for k, v in sorted(r["sizes"].items()))
        print(f"{name:34} {orders:>7} {r['exit']:>4} {r['seconds']:>7.2f} {r['calls_per_s']:>9.0f} "
              f"{r['p50']:>6.2f} {r['p99']:>6.2f} {r['max']:>6.2f} {r['rss_mib']:>8.1f}  {sizes}")
    per_order = (big["rss_mib"] - bare["rss_mib"]) * 1024 / max(1, large - small)
    print(f"RSS per additional order, every report on: {per_order:.1f} KiB")
    if bare["opened"]:
        page, blank = bare["opened"]
        print(f"HTML report of {small} orders: headless Chromium loads and renders it in "
              f"{page:.2f} s (a blank page: {blank:.2f} s)")
    ratio = local_big["seconds"] / max(local_small["seconds"], 1e-9)
    print(f"--local burst, {small} orders vs {tenth}: {ratio:.1f}x as long")
    if py:
        print(f"python asyncio + aiohttp, paced, {small} orders: exit {py['exit']}, "
              f"{py['seconds']:.2f} s, lateness p50/p99/max {py.get('p50_ms', 'nan'):.2f} / "
              f"{py.get('p99_ms', 'nan'):.2f} / {py.get('max_ms', 'nan'):.2f} ms, "
              f"RSS {py['rss_mib']:.1f} MiB")
    else:
        print("python asyncio + aiohttp: skipped (pip install aiohttp)")
    print(f"oha, {small * 5} requests, 50 connections: "
          + (f"{oha:.0f} requests/s" if oha else "skipped (cargo install oha)"))
    failed = [name for name, _, r in rows if r["exit"] != 0]
    if failed:
        print("runs that did not exit 0: " + ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
