import logging
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from flask import current_app

from torium_api import aws
from torium_api.extensions import db
from torium_api.organizations.models import Organization

log = logging.getLogger(__name__)
LOGO_LINK_SECONDS = 3600
LOGOS = Path(__file__).resolve().parent / "logos"  # the seeded organizations' logos, shipped with the code


def list_organizations() -> list[dict]:
    organizations = db.session.scalars(db.select(Organization).order_by(Organization.id))
    return [{"id": o.id, "name": o.name, "url": o.url, "logo_link": _logo_link(o)} for o in organizations]


def find_organization(organization_id: int) -> Organization | None:
    return db.session.get(Organization, organization_id)


def _logo_link(organization: Organization) -> str | None:
    """Presigning is a local computation (no network call); without credentials it cannot sign."""
    try:
        return aws.client("s3").generate_presigned_url(
            "get_object",
            Params={"Bucket": current_app.config["ORGANIZATION_LOGO_BUCKET"], "Key": organization.logo_key},
            ExpiresIn=LOGO_LINK_SECONDS,
        )
    except (BotoCoreError, ClientError):
        log.warning("cannot presign organization logo", exc_info=True)
        return None


def upload_logos() -> list[str]:
    """Put every seeded organization's logo into ORGANIZATION_LOGO_BUCKET (idempotent: same key, same bytes).

    Returns the keys uploaded; an organization without a shipped file is skipped with a warning."""
    bucket, s3, uploaded = current_app.config["ORGANIZATION_LOGO_BUCKET"], aws.client("s3"), []
    for organization in db.session.scalars(db.select(Organization).order_by(Organization.id)):
        path = LOGOS / organization.logo_key
        if not path.is_file():
            log.warning("no logo file shipped for %s", organization.name)
            continue
        s3.put_object(Bucket=bucket, Key=organization.logo_key, Body=path.read_bytes(), ContentType="image/png",
                      CacheControl="public, max-age=86400")
        uploaded.append(organization.logo_key)
    return uploaded
