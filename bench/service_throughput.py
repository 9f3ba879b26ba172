"""Requests per second and latency of ``codeeval-rl serve``'s ``/run_code`` under concurrent
clients, with the in-process sandbox's figure on the same programs beside it.

    python bench/service_throughput.py [--requests 3000] [--clients 32] [--workers 2] [--url URL --key KEY]

Without ``--url`` it starts ``codeeval-rl serve`` as a subprocess on a free loopback port with
a fresh key and store in a temporary directory (every other setting shipped), waits for
``/v1/health``, sends ``--warmup`` requests, then exactly ``--requests`` requests from
``--clients`` concurrent aiohttp clients (keep-alive connections), each a trivial Python
program ``print(<n>)``, and checks every answer: HTTP 200, ``Success``, and the program's own
stdout. Then, in this process, a :class:`~codeeval_rl.sandbox.Sandbox` with the same workers
runs the same programs from ``--clients`` threads. Client, server and sandbox share the
machine's cores. Prints one JSON object; exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def tree_cpu_s(root: int) -> tuple[float, float]:
    """CPU seconds used so far by process ``root`` alone and by it with all its descendants
    (its sandbox workers and, through the workers' children counters, the programs they ran
    and reaped)."""
    stats: dict[int, tuple[int, float]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks = sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
        stats[int(stat.parent.name)] = (int(fields[1]), ticks / os.sysconf("SC_CLK_TCK"))
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _) in stats.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return stats.get(root, (0, 0.0))[1], sum(stats[p][1] for p in tree if p in stats)


def start_server(tmp: Path, workers: int) -> tuple[subprocess.Popen[bytes], str, str]:
    exe = str(Path(sys.executable).with_name("codeeval-rl"))
    keys = tmp / "keys.json"
    out = subprocess.run([exe, "keys", "create", "bench", "--role", "admin", "--keys-file", str(keys)],
                         check=True, capture_output=True, text=True)
    key = out.stdout.strip().splitlines()[-1]
    port = _free_port()
    with open(tmp / "serve.log", "wb") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([exe, "serve", "--port", str(port), "--keys-file", str(keys), "--store",
                                 str(tmp / "store.db"), "--workers", str(workers)],
                                stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    import urllib.request

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/v1/health", timeout=1) as r:
                if r.status == 200:
                    return proc, url, key
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the server did not start; see {tmp / 'serve.log'}")


async def load(url: str, key: str, n: int, clients: int, offset: int) -> tuple[list[float], int, float, list[str]]:
    import aiohttp

    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(n))
    headers = {"Authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=clients)

    async def client(session: aiohttp.ClientSession) -> None:
        for i in counter:
            body = {"code": f"print({offset + i})", "language": "python", "run_timeout": 5}
            t0 = time.perf_counter()
            try:
                async with session.post(url + "/run_code", json=body, headers=headers) as resp:
                    data = await resp.json(content_type=None)
                    ok = (resp.status == 200 and data.get("status") == "Success"
                          and data["run_result"]["stdout"] == f"{offset + i}\n")
                    if not ok:
                        errors.append(f"{resp.status}: {json.dumps(data)[:200]}")
            except Exception as exc:  # noqa: BLE001 - counted as an error
                errors.append(repr(exc)[:200])
            latencies.append(time.perf_counter() - t0)

    async with aiohttp.ClientSession(connector=connector) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        wall = time.perf_counter() - t0
    return latencies, len(errors), wall, errors[:5]


def in_process(n: int, clients: int, workers: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "src"))
    from codeeval_rl.sandbox import Program, Sandbox

    latencies: list[float] = []
    bad = 0
    with Sandbox(workers=workers) as sb:
        sb.start()
        for i in range(200):
            sb.run(Program("python", f"print({i})"))

        def one(i: int) -> None:
            nonlocal bad
            t0 = time.perf_counter()
            r = sb.run(Program("python", f"print({i})"))
            latencies.append(time.perf_counter() - t0)
            if r.stdout != f"{i}\n":
                bad += 1

        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as ex:
            list(ex.map(one, range(n)))
        wall = time.perf_counter() - t0
    return {"requests": n, "per_s": round(n / wall, 1), "p50_ms": round(_pct(latencies, 0.5) * 1000, 2),
            "p99_ms": round(_pct(latencies, 0.99) * 1000, 2), "errors": bad}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--url", default=None, help="An already running server (then --key is needed).")
    ap.add_argument("--key", default=None)
    ap.add_argument("--no-in-process", action="store_true")
    args = ap.parse_args()
    proc = None
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="codeeval-bench-") as tmp:
        if args.url:
            url, key = args.url.rstrip("/"), args.key or os.environ.get("CODEEVAL_KEY", "")
        else:
            proc, url, key = start_server(Path(tmp), args.workers)
        try:
            asyncio.run(load(url, key, args.warmup, args.clients, 10**6))
            cpu0 = tree_cpu_s(proc.pid) if proc is not None else (0.0, 0.0)
            lat, errors, wall, examples = asyncio.run(load(url, key, args.requests, args.clients, 0))
            cpu1 = tree_cpu_s(proc.pid) if proc is not None else (float("nan"), float("nan"))
        finally:
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
    result = {
        "http": {"requests": args.requests, "clients": args.clients, "workers": args.workers,
                 "per_s": round(args.requests / wall, 1), "p50_ms": round(statistics.median(lat) * 1000, 2),
                 "p99_ms": round(_pct(lat, 0.99) * 1000, 2), "max_ms": round(max(lat) * 1000, 2),
                 "server_cpu_ms_per_request": round((cpu1[0] - cpu0[0]) / args.requests * 1000, 2),
                 "server_and_sandbox_cpu_ms_per_request": round((cpu1[1] - cpu0[1]) / args.requests * 1000, 2),
                 "errors": errors, "error_examples": examples},
        "load_1min_before": round(load_before, 2),
    }
    if not args.no_in_process:
        result["in_process"] = in_process(args.requests, args.clients, args.workers)
    print(json.dumps(result, indent=2))
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
