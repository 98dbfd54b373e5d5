"""The load benchmark's data set, inserted in bulk with SQL: ``python -m bench.seed --users 1000 …``.

Prints a summary line, then a token for the user in the most groups on the last line (``bench.load`` reads it).
Runs against the database the environment names (``DATABASE_URL``), in development mode (the local issuer).
"""

import argparse

from sqlalchemy import text

from torium_api.database import transaction
from torium_api.dev.local_issuer import local_sub, mint_local_token
from torium_api.extensions import db

BUSY = "busy@bench.local"  # the user who belongs to the most groups


def main() -> None:
    from torium_api import create_app

    parser = argparse.ArgumentParser()
    for name, default in (("users", 1000), ("groups", 200), ("members-per-group", 10), ("events-per-group", 5),
                          ("products", 100_000)):
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args()
    with create_app().app_context():
        with transaction():
            email = seed(args.users, args.groups, args.members_per_group, args.events_per_group, args.products)
        # Statistics and visibility map now, so autovacuum does not start on the fresh rows during a measurement.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        print(f"seeded {args.users} users, {args.groups} groups, {args.products} products; token for {email}:")
        print(mint_local_token(email, ttl=3600))


def seed(users: int, groups: int, members_per_group: int, events_per_group: int, products: int) -> str:
    """Insert everything; return the e-mail of the user in the most groups."""
    sub_of = {f"u{i}@bench.local": local_sub(f"u{i}@bench.local") for i in range(1, users)}
    rows = [{"sub": local_sub(BUSY), "email": BUSY}] + [{"sub": s, "email": e} for e, s in sub_of.items()]
    db.session.execute(text("INSERT INTO users (cognito_sub, email, reminder_preferences) VALUES (:sub, :email, "
                            "'EMAIL') ON CONFLICT (cognito_sub) DO NOTHING"), rows)
    first = db.session.scalar(text("SELECT id FROM users WHERE cognito_sub = :sub"), {"sub": local_sub(BUSY)})
    params = {"groups": groups, "members": members_per_group, "events": events_per_group, "users": users,
              "busy": first, "products": products, "busy_groups": min(groups, 20)}
    for statement in _STATEMENTS:
        db.session.execute(text(statement), params)
    return BUSY


_STATEMENTS = [
    "INSERT INTO groups (name, description, created_by_id) SELECT 'Group ' || g, 'bench', :busy "
    "FROM generate_series(1, :groups) g",
    # the busy user is admin of the first :busy_groups groups (more than anyone else); others are spread evenly
    "INSERT INTO group_members (group_id, user_id, role) SELECT g.id, :busy, 'admin' FROM groups g "
    "WHERE g.description = 'bench' ORDER BY g.id LIMIT :busy_groups",
    "INSERT INTO group_members (group_id, user_id, role) SELECT g.id, u.id, 'standard' FROM groups g "
    "JOIN LATERAL (SELECT id FROM users WHERE id <> :busy ORDER BY (id * 7919 + g.id * 104729) % :users "
    "LIMIT :members - 1) u ON true WHERE g.description = 'bench' ON CONFLICT DO NOTHING",
    "INSERT INTO events (group_id, created_by_id, name, description, starts_at, timezone, is_budget, budget, "
    "reminder, schedule_period, next_reminder_at) SELECT g.id, :busy, 'Event ' || e, 'bench', "
    "now() + e * interval '1 day', 'Europe/Warsaw', true, 100, 'periodical', '1 week', "
    "now() + e * interval '1 day' - interval '7 days' FROM groups g, generate_series(1, :events) e "
    "WHERE g.description = 'bench'",
    "INSERT INTO event_members (event_id, group_id, user_id) SELECT e.id, e.group_id, m.user_id FROM events e "
    "JOIN group_members m ON m.group_id = e.group_id WHERE e.description = 'bench'",
    "INSERT INTO products (seller_id, name, description, category, price_cents, currency, stock, created_at) "
    "SELECT :busy, (ARRAY['Red','Blue','Green','Fast','Light'])[1 + i % 5] || ' ' || "
    "(ARRAY['ski wax','helmet','goggles','thermos','poles','gloves'])[1 + i % 6] || ' ' || i, "
    "(ARRAY['for cold snow','for warm snow','anti-fog','keeps tea hot','carbon'])[1 + i % 5], "
    "(ARRAY['ski','safety','gear'])[1 + i % 3], 500 + (i * 37) % 20000, 'PLN', 1000000, "
    "now() - i * interval '1 second' FROM generate_series(1, :products) i",
    "INSERT INTO accounts (user_id, currency, balance_cents) VALUES (:busy, 'PLN', 1000000000000) "
    "ON CONFLICT (user_id) DO UPDATE SET balance_cents = 1000000000000",
    "INSERT INTO ledger_entries (account_id, kind, amount_cents, balance_after_cents) SELECT id, 'deposit', "
    "1000000000000, 1000000000000 FROM accounts WHERE user_id = :busy",
]


if __name__ == "__main__":
    main()
