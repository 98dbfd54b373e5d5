"""HTTP load benchmark (`make bench`): gunicorn as the Procfile starts it, PostgreSQL, a seeded data set.

Seeds with `flask seed bench`, starts `gunicorn --config gunicorn.conf.py application:application` on loopback,
then for each endpoint and concurrency (16, 64) runs keep-alive client threads for DURATION seconds and prints
requests/s, p50/p95/p99, SQL statements per request (X-SQL-Count, enabled only here) and the ratio to
/health in the same run; finally the web workers' memory (RSS).
Usage: .venv/bin/python -m bench.load [--duration 8] [--users 1000 --groups 200 ...]
The load generator is Python on the same 2 cores as the server: figures are a floor, comparable run to run.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = {"name": "Bench", "line1": "x", "city": "y", "postal_code": "00-001", "country": "PL"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--members-per-group", type=int, default=20)
    parser.add_argument("--events-per-group", type=int, default=10)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    from torium_api.embedded_pg import database_url

    env = {**os.environ, "DATABASE_URL": database_url(str(ROOT / "instance" / "pgbench"), f"load_{os.getpid()}"),
           "LOG_LEVEL": "WARNING", "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "SQL_COUNT_HEADER": "1",
           "GUNICORN_BIND": f"127.0.0.1:{args.port}", "RATELIMIT_ORDERS": "1000000/minute",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    flask = [sys.executable, "-m", "flask", "--app", "application"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    started = time.perf_counter()
    seeded = subprocess.run([*flask, "seed", "bench", "--users", str(args.users), "--groups", str(args.groups),
                             "--members-per-group", str(args.members_per_group), "--events-per-group",
                             str(args.events_per_group), "--products", str(args.products)],
                            cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    token = seeded.stdout.strip().splitlines()[-1]
    print(f"seeded in {time.perf_counter() - started:.0f} s: {seeded.stdout.strip().splitlines()[0]}")
    server = subprocess.Popen(["gunicorn", "--config", "gunicorn.conf.py", "application:application"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(args.port)
        _run(args, token, server)
    finally:
        server.terminate()
        server.wait(timeout=30)


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


def _run(args, token: str, server: subprocess.Popen) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    group_id = _get(args.port, "/groups?page_size=1", auth)["data"][0]["group_id"]
    product_id = _get(args.port, "/products?limit=1", auth)["data"]["items"][0]["id"]
    order = json.dumps({"lines": [{"product_id": product_id, "quantity": 1}], "shipping_address": ADDRESS})
    endpoints = [
        ("GET /health", "GET", "/health", {}, None),
        ("GET /groups", "GET", "/groups", auth, None),
        ("GET /event", "GET", "/event", auth, None),
        ("GET /group/members", "GET", "/group/members", {**auth, "trm-group-id": str(group_id)}, None),
        ("GET /products search+filter", "GET", "/products?q=wax&category=ski&in_stock=true&sort=price_asc", auth,
         None),
        ("POST /orders", "POST", "/orders", {**auth, "Content-Type": "application/json"}, order),
    ]
    print(f"\n{'endpoint':30s} {'conc':>4s} {'req/s':>8s} {'p50 ms':>7s} {'p95 ms':>7s} {'p99 ms':>7s} "
          f"{'SQL/req':>7s} {'vs /health':>10s}")
    for concurrency in (16, 64):
        health_rps = None
        for name, method, path, headers, body in endpoints:
            rps, latencies, sql, errors = _drive(args.port, method, path, headers, body, concurrency, args.duration)
            health_rps = health_rps or rps
            q = statistics.quantiles(latencies, n=100)
            print(f"{name:30s} {concurrency:4d} {rps:8.0f} {q[49]:7.1f} {q[94]:7.1f} {q[98]:7.1f} {sql:7.1f} "
                  f"{rps / health_rps:9.0%}" + (f"  errors: {errors}" if errors else ""))
    print(f"\nweb workers' memory (RSS): {', '.join(f'{mb:.0f} MB' for mb in _worker_rss(server.pid))}")


def _get(port: int, path: str, headers: dict) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers)
    return json.loads(connection.getresponse().read())


def _drive(port, method, path, headers, body, concurrency, duration):
    latencies, sql, errors = [], [], {}
    lock, deadline = threading.Lock(), time.perf_counter() + duration

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, my_sql, my_errors = [], [], {}
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            my_sql.append(int(response.getheader("X-SQL-Count", "0")))
            if response.status >= 400:
                my_errors[response.status] = my_errors.get(response.status, 0) + 1
        with lock:
            latencies.extend(mine)
            sql.extend(my_sql)
            for status, count in my_errors.items():
                errors[status] = errors.get(status, 0) + count

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - started), latencies, statistics.mean(sql), errors


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
