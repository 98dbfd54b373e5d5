"""HTTP load benchmark (`make bench`): gunicorn as the Procfile starts it, PostgreSQL, a seeded data set.

Seeds with `python -m bench.seed` (the busy user: 20 groups, 100 events with 10 members each), starts
`gunicorn --config gunicorn.conf.py application:application` on loopback and, as the ceiling, a bare Flask app
answering /health with the same envelope under the same gunicorn configuration (`bench/bare.py`); then for each
endpoint (and GET /groups without a token: the floor every request pays, without token or database) and
concurrency (16, 64) drives keep-alive load for DURATION seconds and prints requests/s,
p50/p95/p99, SQL statements per request (X-SQL-Count, enabled only here) and the ratios to our /health and to
the bare app in the same run; finally the web workers' memory (RSS).
Usage: .venv/bin/python -m bench.load [--duration 8] [--client wrk|python] [--users 1000 --groups 200 ...]
The load comes from wrk (`apt-get install wrk`; one C thread) when it is installed, else from Python client
threads, which take a large share of the same cores and make every figure lower (the table says which).
"""

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNAUTHENTICATED = "GET /groups, no token (401)"
ADDRESS = {"name": "Bench", "line1": "x", "city": "y", "postal_code": "00-001", "country": "PL"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--members-per-group", type=int, default=10)
    parser.add_argument("--events-per-group", type=int, default=5)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python")
    args = parser.parse_args()

    from torium_api.dev.embedded_pg import database_url

    env = {**os.environ, "DATABASE_URL": database_url(str(ROOT / "instance" / "pgbench"), f"load_{os.getpid()}"),
           "LOG_LEVEL": "INFO", "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "SQL_COUNT_HEADER": "1",
           "GUNICORN_BIND": f"127.0.0.1:{args.port}", "RATELIMIT_ORDERS": "1000000/minute",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    flask = [sys.executable, "-m", "flask", "--app", "application"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    started = time.perf_counter()
    seeded = subprocess.run([sys.executable, "-m", "bench.seed", "--users", str(args.users), "--groups",
                             str(args.groups), "--members-per-group", str(args.members_per_group),
                             "--events-per-group", str(args.events_per_group), "--products", str(args.products)],
                            cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    token = seeded.stdout.strip().splitlines()[-1]
    print(f"seeded in {time.perf_counter() - started:.0f} s: {seeded.stdout.strip().splitlines()[0]}")
    server = subprocess.Popen(["gunicorn", "--config", "gunicorn.conf.py", "application:application"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bare_port = args.port + 1
    bare = subprocess.Popen(["gunicorn", "--config", "gunicorn.conf.py", "bench.bare:application"], cwd=ROOT,
                            env={**env, "GUNICORN_BIND": f"127.0.0.1:{bare_port}"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait(args.port)
        _wait(bare_port)
        _run(args, token, server, bare_port)
    finally:
        for process in (server, bare):
            process.terminate()
            process.wait(timeout=30)


def _wait(port: int) -> None:
    for _ in range(200):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer /health")


def _run(args, token: str, server: subprocess.Popen, bare_port: int) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    group_id = _get(args.port, "/groups?page_size=1", auth)["data"][0]["group_id"]
    product_id = _get(args.port, "/products?limit=1", auth)["data"]["items"][0]["id"]
    order = json.dumps({"lines": [{"product_id": product_id, "quantity": 1}], "shipping_address": ADDRESS})
    endpoints = [
        ("GET /health", "GET", "/health", {}, None),
        # Every hook, the envelope and the access line, but neither a token to verify nor the database: 401.
        (UNAUTHENTICATED, "GET", "/groups", {}, None),
        ("GET /groups", "GET", "/groups", auth, None),
        ("GET /event (as the app calls)", "GET", "/event", auth, None),
        ("GET /event?page_size=20", "GET", "/event?page_size=20", auth, None),
        ("GET /group/members", "GET", "/group/members", {**auth, "trm-group-id": str(group_id)}, None),
        ("GET /products search+filter", "GET", "/products?q=wax&category=ski&in_stock=true&sort=price_asc", auth,
         None),
        ("POST /orders", "POST", "/orders", {**auth, "Content-Type": "application/json"}, order),
    ]
    print(f"\nload from: {args.client}")
    drive = _drive_wrk if args.client == "wrk" else _drive
    for _, method, path, headers, body in endpoints:  # warm every worker's pools and statement caches first
        drive(args.port, method, path, headers, body, 16, 2)
    drive(bare_port, "GET", "/health", {}, None, 16, 2)
    print(f"\n{'endpoint':30s} {'conc':>4s} {'req/s':>8s} {'p50 ms':>7s} {'p95 ms':>7s} {'p99 ms':>7s} "
          f"{'SQL/req':>7s} {'vs /health':>10s} {'vs bare':>8s}")
    for concurrency in (16, 64):
        bare_rps, (p50, p95, p99), _ = drive(bare_port, "GET", "/health", {}, None, concurrency, args.duration)
        print(f"{'bare Flask /health (ceiling)':30s} {concurrency:4d} {bare_rps:8.0f} {p50:7.1f} {p95:7.1f} "
              f"{p99:7.1f} {0:7d} {'':>10s} {1:8.0%}")
        health_rps = None
        for name, method, path, headers, body in endpoints:
            rps, (p50, p95, p99), errors = drive(args.port, method, path, headers, body, concurrency, args.duration)
            sql = _sql_count(args.port, method, path, headers, body)
            health_rps = health_rps or rps
            if name == UNAUTHENTICATED:
                errors = {k: v for k, v in errors.items() if k not in ("status >= 400", 401)}  # the 401 it measures
            print(f"{name:30s} {concurrency:4d} {rps:8.0f} {p50:7.1f} {p95:7.1f} {p99:7.1f} {sql:7d} "
                  f"{rps / health_rps:10.0%} {rps / bare_rps:8.0%}" + (f"  errors: {errors}" if errors else ""))
    print(f"\nweb workers' memory (RSS): {', '.join(f'{mb:.0f} MB' for mb in _worker_rss(server.pid))}")


def _request(port: int, method: str, path: str, headers: dict, body=None) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response, response.read()


def _get(port: int, path: str, headers: dict) -> dict:
    return json.loads(_request(port, "GET", path, headers)[1])


def _sql_count(port, method, path, headers, body) -> int:
    """Statements one request runs (the X-SQL-Count diagnostic header)."""
    return int(_request(port, method, path, headers, body)[0].getheader("X-SQL-Count", "0"))


_WRK_SCRIPT = """
wrk.method = {method}
wrk.body = {body}
{headers}
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %.1f %.1f %.1f\\n", summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def _drive_wrk(port, method, path, headers, body, concurrency, duration):
    """wrk with one thread and CONCURRENCY keep-alive connections; latencies in ms."""
    lua = _WRK_SCRIPT.format(method=json.dumps(method), body=json.dumps(body) if body else "nil",
                             headers="\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}"
                                               for k, v in headers.items()))
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua)
        script.flush()
        out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{duration:.0f}s", "-s", script.name,
                              f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    fields = next(line for line in out.splitlines() if line.startswith("RESULT")).split()[1:]
    requests, micros, bad_status, socket_errors = (int(f) for f in fields[:4])
    errors = {k: v for k, v in (("status >= 400", bad_status), ("socket", socket_errors)) if v}
    return requests / (micros / 1e6), tuple(float(f) / 1000 for f in fields[4:]), errors


def _drive(port, method, path, headers, body, concurrency, duration):
    """Python keep-alive client threads (when wrk is not installed); latencies in ms."""
    latencies, errors = [], {}
    lock, deadline = threading.Lock(), time.perf_counter() + duration

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, my_errors = [], {}
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status >= 400:
                my_errors[response.status] = my_errors.get(response.status, 0) + 1
        with lock:
            latencies.extend(mine)
            for status, count in my_errors.items():
                errors[status] = errors.get(status, 0) + count

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    q = statistics.quantiles(latencies, n=100)
    return len(latencies) / (time.perf_counter() - started), (q[49], q[94], q[98]), errors


def _worker_rss(master_pid: int) -> list[float]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


if __name__ == "__main__":
    main()
