"""Account domain functions: confirmations, linking, opt-outs, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts import services
from apps.accounts.models import EmailConfirmation, EmailOptout, User
from apps.projects.models import Person
from apps.projects.services import person_link
from tests.factories import make_person, make_user

pytestmark = pytest.mark.django_db


def test_confirm_acts_once(stranger):
    confirmation = services.email_confirmation_request(
        type=EmailConfirmation.USERPERSON, email="x@example.com", user=stranger
    )
    stale_copy = EmailConfirmation.objects.get(pk=confirmation.pk)
    services.email_confirmation_confirm(confirmation=confirmation)
    # A second request holding the same, still-"active" row loses the conditional update.
    with pytest.raises(services.ConfirmationInvalid):
        services.email_confirmation_confirm(confirmation=stale_copy)
    assert Person.objects.filter(email="x@example.com", user=stranger).count() == 1


def test_request_rejects_registration_and_userless_links(stranger):
    with pytest.raises(ValueError):
        services.email_confirmation_request(
            type=EmailConfirmation.REGISTRATION, email="x@example.com", user=stranger
        )
    with pytest.raises(ValueError):
        services.email_confirmation_request(type=EmailConfirmation.USERPERSON, email="x@e.com")
    assert not EmailConfirmation.objects.exists()


def test_person_link_moves_an_address_between_accounts(stranger, maintainer):
    person = make_person("shared@example.com", user=maintainer)
    assert person_link(user=stranger, email="SHARED@example.com") == person
    person.refresh_from_db()
    assert person.user == stranger


def test_optout_is_stored_lower_case():
    services.email_optout_add(email=" Mixed@Case.Example ")
    assert list(EmailOptout.objects.values_list("email", flat=True)) == ["mixed@case.example"]
    assert services.email_optout_remove(email="MIXED@case.example") == 1


def test_settings_update_accepts_only_settings(stranger):
    with pytest.raises(ValueError):
        services.user_settings_update(user=stranger, is_superuser=True)
    stranger.refresh_from_db()
    assert not stranger.is_superuser
    services.user_settings_update(user=stranger, items_per_page=10, show_ids=True)
    stranger.refresh_from_db()
    assert (stranger.items_per_page, stranger.show_ids) == (10, True)


def test_expire_drops_old_confirmations_and_never_activated_accounts(settings, stranger):
    days = settings.CONFIRMATION_VALIDITY_DAYS
    old = timezone.now() - timedelta(days=days + 1)
    expired = services.user_register(username="late", email="late@example.com", password="x")
    EmailConfirmation.objects.filter(pk=expired.pk).update(date=old)
    fresh = services.user_register(username="fresh", email="fresh@example.com", password="x")
    # An account an admin disabled is not a stale registration.
    disabled = make_user("disabled", is_active=False)
    old_link = services.email_confirmation_request(
        type=EmailConfirmation.USERPERSON, email="s@example.com", user=stranger
    )
    EmailConfirmation.objects.filter(pk=old_link.pk).update(date=old)

    assert services.email_confirmations_expire() == (1, 1)
    assert not User.objects.filter(username="late").exists()
    assert User.objects.filter(pk__in=[fresh.user_id, disabled.pk, stranger.pk]).count() == 3
    assert list(EmailConfirmation.objects.values_list("pk", flat=True)) == [fresh.pk]
