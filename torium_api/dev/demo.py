"""Demo data for `make run`: users that exist as if they had signed in once, and a small catalogue."""

from flask import current_app

from torium_api.dev.local_issuer import local_sub
from torium_api.extensions import db
from torium_api.products.models import Product
from torium_api.users import services as users

DEMO_USERS = ("demo@torium.local", "alice@torium.local", "bob@torium.local", "seller@torium.local")
CATALOGUE = [
    ("Red ski wax", "Fast wax for cold, dry snow", "ski", 4999, 25),
    ("Blue ski wax", "All-round wax for warm snow", "ski", 3999, 0),
    ("Ski helmet", "Light helmet with MIPS", "safety", 34900, 8),
    ("Goggles", "Anti-fog lens, fits over glasses", "safety", 18900, 12),
    ("Thermos", "Keeps tea hot for a whole day on the slope", "gear", 8900, 40),
]


def seed_demo_data() -> None:
    """Idempotent: running it again adds nothing. The caller commits."""
    for email in DEMO_USERS:
        users.create_user_from_token({"sub": local_sub(email), "email": email, "email_verified": True}, token="")
    seller = users.find_user_by_sub(local_sub("seller@torium.local"))
    if db.session.scalar(db.select(Product.id).where(Product.seller_id == seller.id).limit(1)) is None:
        db.session.add_all(Product(seller_id=seller.id, name=name, description=description, category=category,
                                   price_cents=price, stock=stock, currency=current_app.config["CURRENCY"])
                           for name, description, category, price, stock in CATALOGUE)
