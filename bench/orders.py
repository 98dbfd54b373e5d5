"""Orders through the saga: throughput and POST → completed latency, relay and worker as processes.

Usage: .venv/bin/python -m bench.orders [--orders 300] [--latency-samples 30]
"""

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--latency-samples", type=int, default=30)
    args = parser.parse_args()

    from bench.stack import background_stack
    from torium_api.dev.local_issuer import mint_local_token

    with background_stack("orders", RELAY_IDLE_SECONDS="0.1", RATELIMIT_ORDERS="1000000/minute") as app:
        with app.app_context():
            seller = {"Authorization": f"Bearer {mint_local_token('seller@bench.local', ['seller'])}"}
            buyer = {"Authorization": f"Bearer {mint_local_token('buyer@bench.local')}"}
        client = app.test_client()
        product = client.post("/products", headers=seller, json={"name": "Wax", "category": "ski",
                                                                 "price_cents": 100, "stock": 100_000})
        product = product.get_json()["data"]["id"]
        client.post("/accounts/me/deposits", headers=buyer, json={"amount_cents": 100_000_000})
        body = {"lines": [{"product_id": product, "quantity": 1}],
                "shipping_address": {"name": "B", "line1": "x", "city": "y", "postal_code": "00-001",
                                     "country": "PL"}}
        started = time.perf_counter()
        ids = [client.post("/orders", headers=buyer, json=body).get_json()["data"]["id"] for _ in range(args.orders)]
        _wait_final(client, buyer, ids)
        throughput = args.orders / (time.perf_counter() - started)
        latencies = []
        for _ in range(args.latency_samples):
            posted = time.perf_counter()
            order_id = client.post("/orders", headers=buyer, json=body).get_json()["data"]["id"]
            _wait_final(client, buyer, [order_id], poll=0.02)
            latencies.append((time.perf_counter() - posted) * 1000)
    print(f"throughput: {args.orders} orders placed and completed at {throughput:.1f} orders/s")
    print(f"POST → completed (polled every 20 ms), {len(latencies)} orders one at a time: median "
          f"{statistics.median(latencies):.0f} ms, p95 {sorted(latencies)[int(len(latencies) * .95) - 1]:.0f} ms")


def _wait_final(client, headers, ids, poll=0.2) -> None:
    pending = set(ids)
    deadline = time.monotonic() + 600
    while pending and time.monotonic() < deadline:
        for order_id in list(pending):
            status = client.get(f"/orders/{order_id}", headers=headers).get_json()["data"]["status"]
            if status in ("completed", "failed"):
                assert status == "completed", order_id
                pending.discard(order_id)
        time.sleep(poll)
    assert not pending, f"{len(pending)} orders not final"


if __name__ == "__main__":
    main()
