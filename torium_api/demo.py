"""Demo data for `make run`: a few users that exist as if they had signed in once."""

import uuid

from torium_api.database import transaction
from torium_api.users import services as users

DEMO_USERS = ("demo@torium.local", "alice@torium.local", "bob@torium.local")


def local_sub(email: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"torium-local:{email.lower()}"))


def seed_demo_data() -> None:
    with transaction():
        for email in DEMO_USERS:
            users.create_user_from_token({"sub": local_sub(email), "email": email}, token="")
