"""WaveSpeed's webhook receiver: verified, recorded and applied (`runner.webhook_receive`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .runner import Applied, webhook_receive
from .webhooks import SecretUnavailable, WebhookRejected


@csrf_exempt
@require_POST
def wavespeed_webhook(request: HttpRequest) -> HttpResponse:
    """200 when a followed job's end was applied (or a replay of a delivery we have), 202 when
    accepted but left to the polls (a prediction no job holds yet, or one
    already ended), 400/401 when refused, 503 when the secret cannot be fetched (WaveSpeed may
    deliver again)."""
    try:
        outcome = webhook_receive(request.headers, request.body)
    except WebhookRejected as exc:
        return HttpResponse(exc.reason, status=exc.status, content_type="text/plain")
    except SecretUnavailable:
        return HttpResponse("try again later", status=503, content_type="text/plain")
    status = 200 if outcome == Applied.APPLIED else 202
    return HttpResponse(outcome.value, status=status, content_type="text/plain")
