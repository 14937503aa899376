"""Opting an address out of notification mail and back in, each confirmed by mail."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts import throttle
from apps.accounts.models import EmailConfirmation, EmailOptout
from apps.accounts.selectors import email_is_opted_out
from tests.accounts.conftest import confirmation_key, do_confirmation, show_confirmation

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["mail-settings", "mail-optout", "mail-optin"])
def test_form_page_for_anyone(client, name):
    response = client.get(reverse(name), {"email": "who@example.com"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_email"' in html and 'value="who@example.com"' in html
    assert f'action="{reverse("mail-optout")}"' in html
    assert f'formaction="{reverse("mail-optin")}"' in html


def test_anonymous_optout_then_optin(client, mailoutbox):
    response = client.post(reverse("mail-optout"), {"email": "Who@Example.com"})
    assert response.status_code == 200
    assert "Check your mail" in response.content.decode()
    assert mailoutbox[0].to == ["Who@Example.com"]
    assert not email_is_opted_out("who@example.com")

    key = confirmation_key(mailoutbox[0])
    assert "Stop notification mail" in show_confirmation(client, key).content.decode()
    assert do_confirmation(client, key).status_code == 200
    assert list(EmailOptout.objects.values_list("email", flat=True)) == ["who@example.com"]
    assert email_is_opted_out("WHO@example.com")

    client.post(reverse("mail-optin"), {"email": "who@example.com"})
    key = confirmation_key(mailoutbox[1])
    assert do_confirmation(client, key).status_code == 200
    assert not EmailOptout.objects.exists()


def test_optout_twice_is_harmless(client, mailoutbox):
    EmailOptout.objects.create(email="who@example.com")
    client.post(reverse("mail-optout"), {"email": "who@example.com"})
    assert do_confirmation(client, confirmation_key(mailoutbox[0])).status_code == 200
    assert EmailOptout.objects.count() == 1


def test_optin_removes_opt_out_stored_in_another_case(client, mailoutbox):
    EmailOptout.objects.create(email="Who@Example.com")
    client.post(reverse("mail-optin"), {"email": "who@example.com"})
    do_confirmation(client, confirmation_key(mailoutbox[0]))
    assert not EmailOptout.objects.exists()


def test_profile_buttons_follow_the_state(client, mailoutbox, stranger):
    client.force_login(stranger)
    html = client.get(reverse("user-profile")).content.decode()
    assert "Opt out<span" in html and "Opt back in<span" not in html
    client.post(reverse("mail-optout"), {"email": stranger.email})
    do_confirmation(client, confirmation_key(mailoutbox[0]))
    html = client.get(reverse("user-profile")).content.decode()
    assert "Opted out" in html and "Opt back in<span" in html


@pytest.mark.parametrize("name", ["mail-optout", "mail-optin"])
@pytest.mark.parametrize("email", ["", "nope", "a@b@c"])
def test_bad_address_is_refused_and_changes_nothing(client, mailoutbox, name, email):
    response = client.post(reverse(name), {"email": email})
    assert response.status_code == 400
    assert response.context["form"].errors["email"]
    assert not EmailConfirmation.objects.exists()
    assert mailoutbox == []


def test_mails_to_one_recipient_are_throttled(client, mailoutbox):
    for _ in range(throttle.MAILS_PER_RECIPIENT):
        assert client.post(reverse("mail-optout"), {"email": "v@example.com"}).status_code == 200
    response = client.post(reverse("mail-optout"), {"email": "V@example.com"})
    assert response.status_code == 429
    assert "Too many confirmation mails" in response.content.decode()
    assert len(mailoutbox) == throttle.MAILS_PER_RECIPIENT
    # Another recipient is unaffected.
    assert client.post(reverse("mail-optin"), {"email": "w@example.com"}).status_code == 200


def test_expired_optout_confirmation_is_refused(client, mailoutbox, settings):
    from datetime import timedelta

    from django.utils import timezone

    client.post(reverse("mail-optout"), {"email": "who@example.com"})
    EmailConfirmation.objects.update(
        date=timezone.now() - timedelta(days=settings.CONFIRMATION_VALIDITY_DAYS)
    )
    response = do_confirmation(client, confirmation_key(mailoutbox[0]))
    assert response.status_code == 410
    assert not EmailOptout.objects.exists()
