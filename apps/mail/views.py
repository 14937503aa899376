"""POST /mail/: the HTTP intake for mail-as-a-service providers."""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.accounts import throttle
from apps.mail.intake import mail_store
from apps.mail.tasks import mail_enqueue_on_commit
from apps.projects.params import NUL_MESSAGE, has_nul, parse_int

log = logging.getLogger(__name__)


def _token(request: HttpRequest) -> str:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("X-Mail-Token", "") or request.GET.get("token", "")


@csrf_exempt
@require_POST
def mail_intake(request: HttpRequest) -> JsonResponse:
    """Store the raw RFC 822 message in the body; 202 once it is stored durably."""
    expected = settings.MAIL_INTAKE_TOKEN
    if not expected:
        return JsonResponse({"detail": "Mail intake is disabled (MAIL_INTAKE_TOKEN)."}, status=404)
    if not hmac.compare_digest(_token(request).encode(), expected.encode()):
        # Only wrong tokens are counted and refused: the right one always gets in,
        # so a misconfigured sender beside the real one cannot lock it out.
        if throttle.token_failed("mail-intake", throttle.client_address(request)):
            return JsonResponse({"detail": "Too many invalid tokens; try again later."}, status=429)
        return JsonResponse({"detail": "Invalid or missing token."}, status=401)
    length = request.META.get("CONTENT_LENGTH") or "0"
    if (parse_int(length) or 0) > settings.MAX_MAIL_SIZE:
        return JsonResponse(
            {"detail": f"Message larger than {settings.MAX_MAIL_SIZE} bytes."}, status=413
        )
    raw = request.body
    if not raw.strip():
        return JsonResponse({"detail": "The body must be the raw message."}, status=400)
    list_id = request.GET.get("list_id", "") or request.headers.get("X-List-Id", "")
    if has_nul(list_id):  # the database cannot store it: no retry would ever succeed
        return JsonResponse({"detail": f"list_id: {NUL_MESSAGE}"}, status=400)
    try:
        mail = mail_store(raw, list_id=list_id)
        mail_enqueue_on_commit(mail)
    except DatabaseError:
        log.exception("could not store incoming mail")
        return JsonResponse({"detail": "Could not store the message; retry later."}, status=503)
    mail.refresh_from_db(fields=["status", "outcome", "reason"])
    return JsonResponse(
        {"id": mail.pk, "status": mail.status, "outcome": mail.outcome, "reason": mail.reason},
        status=202,
    )
