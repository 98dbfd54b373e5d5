"""Cognito's admin API, called by the workers only (never inside a request): the user's ``custom:user_id``,
disabling and enabling, the shop roles' groups, deletion.

The pool is ``COGNITO_ADMIN_USER_POOL_ID`` (the verifier's pool unless set). Without one (development with the local
token issuer) there is no Cognito to tell: each call is skipped and says so in the log. A user Cognito no longer
knows (``UserNotFoundException``, e.g. deleted meanwhile) is nothing to do; any other error propagates, so the
message is retried and, in the end, dead-lettered. Every call is idempotent: a redelivery repeats it harmlessly.
"""

import logging

from botocore.exceptions import ClientError
from flask import current_app

from torium_api import aws

log = logging.getLogger(__name__)


def _call(operation: str, username: str, **kwargs) -> bool:
    """True when Cognito did it; False when there is no pool or no such user."""
    pool = current_app.config["COGNITO_ADMIN_USER_POOL_ID"]
    if not pool:
        log.info("no Cognito pool configured: %s skipped", operation)
        return False
    try:
        getattr(aws.client("cognito-idp"), operation)(UserPoolId=pool, Username=username, **kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "UserNotFoundException":
            raise
        log.warning("Cognito has no such user: %s skipped", operation)
        return False
    return True


def set_user_id(username: str, user_id: int) -> bool:
    return _call("admin_update_user_attributes", username,
                 UserAttributes=[{"Name": "custom:user_id", "Value": str(user_id)}])


def disable(username: str) -> bool:
    """No new sign-in, and the refresh tokens revoked (the API refuses the access tokens already out)."""
    return _call("admin_disable_user", username) and _call("admin_user_global_sign_out", username)


def enable(username: str) -> bool:
    return _call("admin_enable_user", username)


def add_to_group(username: str, group: str) -> bool:
    return _call("admin_add_user_to_group", username, GroupName=group)


def remove_from_group(username: str, group: str) -> bool:
    return _call("admin_remove_user_from_group", username, GroupName=group)


def delete(username: str) -> bool:
    return _call("admin_delete_user", username)
