"""Concurrency soak (`make soak`, not part of `make test`): many threads mix orders, deposits, withdrawals,
invitations and event edits for SOAK_SECONDS while a relay and workers run; then every invariant is checked.
"""

import os
import random
import threading
import time

import pytest

from tests.soak.world import Load, build, check_invariants
from torium_api import queues
from torium_api.outbox import relay
from torium_api.workers import runner

pytestmark = pytest.mark.soak
SECONDS = float(os.environ.get("SOAK_SECONDS", "20"))


def _background(app, stop):
    """One relay and one worker (a consumer per queue), as on an instance."""
    threads = [threading.Thread(target=_in_context, args=(app, relay.run, stop, 0.05))]
    threads += [threading.Thread(target=runner.consume, args=(app, q, stop, 1)) for q in queues.ALL]
    for thread in threads:
        thread.start()
    return threads


def _in_context(app, fn, *args):
    with app.app_context():
        fn(*args)


def test_soak_keeps_every_invariant(app, client, tokens, sqs):
    rng = random.Random(7)
    world = build(app, client, tokens, rng)
    stop_background = threading.Event()
    background = _background(app, stop_background)
    load = Load(app, world, rng).start()
    time.sleep(SECONDS)
    load.stop()
    stop_background.set()
    for thread in background:
        thread.join()
    for _ in range(30):  # finish what is in flight
        with app.app_context():
            published = relay.relay_batch()
        if not published and not runner.drain_once(app, wait_seconds=0):
            break

    statuses = [status for _, status in load.statuses]
    assert load.errors == [] and not [s for s in statuses if s >= 500], (load.errors[:3], sorted(set(statuses)))
    print(f"\nsoak: {len(statuses)} requests in {SECONDS:.0f} s, statuses {sorted(set(statuses))}")
    with app.app_context():
        check_invariants(world.products, world.event_ids)
