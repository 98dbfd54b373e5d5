"""POST /payments/webhook: the provider's events, authenticated by their signature (no token)."""

from flask import current_app, request
from flask.views import MethodView
from werkzeug.exceptions import Unauthorized

from torium_api import clock
from torium_api.database import transaction
from torium_api.payments import blp, services, signature
from torium_api.payments.schemas import PaymentEventSchema, WebhookReceiptSchema

SIGNATURE_DOC = {"in": "header", "name": signature.HEADER, "required": True, "schema": {"type": "string"},
                 "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\" with the shared secret>"}


@blp.before_request
def check_signature():
    """Before the body is parsed or anything else is read: a call the provider did not sign stops here (401)."""
    body = request.get_data(cache=True)  # the raw bytes that were signed (413 beyond MAX_CONTENT_LENGTH)
    config = current_app.config
    try:
        signature.verify(request.headers.get(signature.HEADER), body, config["PAYMENT_WEBHOOK_SECRET"],
                         now=clock.now().timestamp(), tolerance=config["PAYMENT_WEBHOOK_TOLERANCE_SECONDS"])
    except signature.BadSignature as exc:
        refused = Unauthorized(str(exc))
        refused.data = {"message": f"Invalid webhook signature: {exc}",
                        "headers": {"WWW-Authenticate": f'{signature.HEADER} realm="payments"'}}
        raise refused from None


@blp.route("/payments/webhook")
class PaymentWebhook(MethodView):
    @blp.doc(security=[], parameters=[SIGNATURE_DOC], operationId="receivePaymentEvent")
    @blp.arguments(PaymentEventSchema)
    @blp.response(200, WebhookReceiptSchema)
    @blp.alt_response(401, description="Signature missing, malformed, outside the time window or wrong: nothing "
                                        "was read or changed")
    def post(self, event):
        """The payment provider reports an event; a successful payment credits the wallet it names, once"""
        with transaction():
            return services.record_event(event)
