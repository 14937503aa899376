"""Confirmation mail: one plain-text message per EmailConfirmation type."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from apps.accounts.models import EmailConfirmation

SUBJECTS = {
    EmailConfirmation.REGISTRATION: "Patchwork account confirmation",
    EmailConfirmation.USERPERSON: "Patchwork e-mail address confirmation",
    EmailConfirmation.OPTOUT: "Patchwork notification opt-out confirmation",
    EmailConfirmation.OPTIN: "Patchwork notification opt-in confirmation",
}


def absolute_url(request, path: str) -> str:
    """An absolute link for mail; https when the request was, or FORCE_HTTPS_LINKS says so."""
    url = request.build_absolute_uri(path)
    if settings.FORCE_HTTPS_LINKS and url.startswith("http://"):
        url = "https://" + url[len("http://") :]
    return url


def confirmation_mail_send(*, request, confirmation: EmailConfirmation) -> None:
    """Mail the confirmation link to the address being confirmed."""
    context = {
        "confirmation": confirmation,
        "user": confirmation.user,
        # After '#': browsers never send it, so the key reaches no access log; the page
        # posts it (static/js/confirm.js), or the reader pastes the key printed below.
        "url": absolute_url(request, reverse("confirm")) + "#" + confirmation.key,
        "key": confirmation.key,
        "validity_days": settings.CONFIRMATION_VALIDITY_DAYS,
        "site": request.get_host(),
    }
    body = render_to_string(f"accounts/mail/{confirmation.type}.txt", context)
    send_mail(SUBJECTS[confirmation.type], body, None, [confirmation.email])
