"""Password change (signed in) and reset (by mail)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from apps.accounts import throttle

pytestmark = pytest.mark.django_db

NEW = "a brand new passphrase"


def test_change_password(client, stranger):
    client.force_login(stranger)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {"old_password": "password", "new_password1": NEW, "new_password2": NEW},
    )
    assert response.url == reverse("password_change_done")
    stranger.refresh_from_db()
    assert stranger.check_password(NEW)
    assert "Password changed" in client.get(response.url).content.decode()


def test_change_with_wrong_old_password_changes_nothing(client, stranger):
    client.force_login(stranger)
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 200
    assert "old password was entered incorrectly" in response.content.decode()
    stranger.refresh_from_db()
    assert stranger.check_password("password")


def test_reset_password_by_mail(client, mailoutbox, stranger):
    assert client.get(reverse("password_reset")).status_code == 200
    response = client.post(reverse("password_reset"), {"email": "Stranger@example.com"})
    assert response.url == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    assert mailoutbox[0].subject == "Patchwork password reset"
    link = re.search(r"http://testserver(/user/password-reset/\S+/\S+/)", body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    response = client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert response.url == reverse("password_reset_complete")
    stranger.refresh_from_db()
    assert stranger.check_password(NEW)
    # The link is single-use.
    again = client.get(link, follow=True)
    assert "no longer valid" in again.content.decode()


def test_reset_for_unknown_address_sends_nothing_and_says_the_same(client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.url == reverse("password_reset_done")
    assert mailoutbox == []


def test_reset_mails_are_throttled(client, mailoutbox, stranger):
    for _ in range(throttle.MAILS_PER_RECIPIENT):
        client.post(reverse("password_reset"), {"email": stranger.email})
    response = client.post(reverse("password_reset"), {"email": stranger.email})
    assert response.status_code == 429
    assert len(mailoutbox) == throttle.MAILS_PER_RECIPIENT
