"""Helpers for the account pages: the links in confirmation mails."""

from __future__ import annotations

import re

from django.urls import reverse

LINK = re.compile(r"https?://\S+/confirm/#(\w+)")


def confirmation_key(message) -> str:
    """The confirmation key in a mail's body (exactly one link)."""
    keys = LINK.findall(message.body)
    assert len(keys) == 1, message.body
    return keys[0]


def show_confirmation(client, key: str, **extra):
    """Post the key as the confirmation page does: shows what the link would do."""
    return client.post(reverse("confirm"), {"key": key}, **extra)


def do_confirmation(client, key: str, password: str = "", **extra):
    """Press the page's Confirm button (with the account's password for a registration)."""
    data = {"key": key, "confirm": "1", "password": password}
    return client.post(reverse("confirm"), data, **extra)
