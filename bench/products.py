"""List-products latency at 100 and at 100,000 products (in-process, app + PostgreSQL, no HTTP server).

For each size: fill a throwaway database (embedded PostgreSQL under instance/pgbench), then time
`GET /products` requests (a first page, a deep page via cursor, search + filter) through the Flask test
client, and count their SQL statements. Usage: .venv/bin/python -m bench.products [--sizes 100 100000]
"""

import argparse
import os
import statistics
import time
from pathlib import Path

from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parent.parent
QUERIES = {
    "first page (newest)": "/products?limit=20",
    "by price, category": "/products?category=ski&sort=price_asc&limit=20",
    "search + in stock": "/products?q=wax&in_stock=true&limit=20",
    "search + price range": "/products?q=snow&min_price=1000&max_price=5000&sort=price_desc&limit=20",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 100_000])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    for size in args.sizes:
        _run(size, args.requests)


def _run(size: int, requests: int) -> None:
    from torium_api.dev.embedded_pg import database_url

    os.environ.update(DATABASE_URL=database_url(str(ROOT / "instance" / "pgbench"), database=f"p{size}_{os.getpid()}"),
                      LOG_LEVEL="WARNING", AWS_ENDPOINT_URL="http://127.0.0.1:9")
    import flask_migrate

    from torium_api import create_app
    from torium_api.dev.local_issuer import mint_local_token
    from torium_api.extensions import db

    app = create_app()
    with app.app_context():
        flask_migrate.upgrade()
        headers = {"Authorization": f"Bearer {mint_local_token('bench@torium.local', ['seller'])}"}
        client = app.test_client()
        client.get("/users", headers=headers)
        _fill(db, size)
        engine = db.engine
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(1))
    print(f"\n{size:,} products")
    for name, url in QUERIES.items():
        _time(client, headers, name, url, requests, statements)
    page = client.get("/products?limit=100", headers=headers).get_json()["data"]
    for _ in range(min(size // 100 - 1, 300)):  # walk deep into the listing, then time a page there
        if page["next_cursor"] is None:
            break
        page = client.get(f"/products?limit=100&cursor={page['next_cursor']}", headers=headers).get_json()["data"]
    if page["next_cursor"]:
        _time(client, headers, "deep page (cursor)", f"/products?limit=20&cursor={page['next_cursor']}", requests,
              statements)


def _time(client, headers, name, url, requests, statements) -> None:
    timings = []
    statements.clear()
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_json()
    timings.sort()
    print(f"  {name:24s} median {statistics.median(timings):6.2f} ms  p95 {timings[int(len(timings) * .95)]:6.2f} ms"
          f"  SQL/request {len(statements) / requests:.0f}")


def _fill(db, size: int) -> None:
    db.session.execute(text("""
        INSERT INTO products (seller_id, name, description, category, price_cents, currency, stock, created_at)
        SELECT 1, (ARRAY['Red','Blue','Green','Fast','Light'])[1 + i % 5] || ' ' ||
                  (ARRAY['ski wax','helmet','goggles','thermos','poles','gloves'])[1 + i % 6] || ' ' || i,
               (ARRAY['for cold snow','for warm snow','anti-fog','keeps tea hot','carbon'])[1 + i % 5],
               (ARRAY['ski','safety','gear'])[1 + i % 3], 500 + (i * 37) % 20000, 'PLN', i % 7,
               now() - i * interval '1 second'
        FROM generate_series(1, :size) AS i"""), {"size": size})
    db.session.commit()
    db.session.execute(text("ANALYZE products"))


if __name__ == "__main__":
    main()
