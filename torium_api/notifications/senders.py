"""The three channels, over boto3. Each returns the provider's message id.

Errors that retrying cannot fix raise ``Undeliverable`` (the delivery is logged as
failed); anything else propagates so the message is retried and, in the end, dead-lettered.
"""

import json

from botocore.exceptions import ClientError
from flask import current_app

from torium_api import aws

PERMANENT_ERRORS = {"EndpointDisabled", "InvalidParameter", "InvalidParameterValue", "MessageRejected",
                    "NotFound", "OptedOut"}


class Undeliverable(Exception):
    pass


def _call(fn, **kwargs) -> dict:
    try:
        return fn(**kwargs)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in PERMANENT_ERRORS:
            raise Undeliverable(code) from None
        raise


def send_sms(phone_number: str, text: str) -> str:
    return _call(aws.client("sns").publish, PhoneNumber=phone_number, Message=text)["MessageId"]


def send_email(address: str, subject: str, text: str) -> str:
    message = {"Subject": {"Data": subject, "Charset": "UTF-8"},
               "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}}
    response = _call(aws.client("ses").send_email, Source=current_app.config["SES_SENDER"],
                     Destination={"ToAddresses": [address]}, Message=message)
    return response["MessageId"]


def send_push(endpoint_arn: str, title: str, text: str, data: dict | None = None) -> str:
    """FCM through SNS. ``forward_link`` is always present: the Flutter tap handler requires it."""
    fcm = {
        "notification": {"title": title, "body": text},
        "data": {"title": title, "message": text, "forward_link": "None", **(data or {})},
        "android": {"priority": "high", "notification": {"sound": "default"}},
    }
    message = json.dumps({"default": text, "GCM": json.dumps(fcm)})
    return _call(aws.client("sns").publish, TargetArn=endpoint_arn, MessageStructure="json",
                 Message=message)["MessageId"]


def register_device(user_id: int, token: str, endpoint_arn: str | None) -> str:
    """Create the SNS platform endpoint for a device token, or re-point and re-enable an existing one."""
    sns, user_data = aws.client("sns"), f"user_id={user_id}"
    if endpoint_arn:
        try:
            sns.set_endpoint_attributes(EndpointArn=endpoint_arn,
                                        Attributes={"Token": token, "Enabled": "true", "CustomUserData": user_data})
            return endpoint_arn
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NotFound":
                raise
    application_arn = current_app.config["SNS_PLATFORM_APPLICATION_ARN"]
    if not application_arn:
        raise Undeliverable("SNS_PLATFORM_APPLICATION_ARN is not configured")
    return sns.create_platform_endpoint(PlatformApplicationArn=application_arn, Token=token,
                                        CustomUserData=user_data)["EndpointArn"]
