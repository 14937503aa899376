"""Registration: form, confirmation mail, activation, linking past mail; bad input changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import EmailConfirmation, User
from apps.projects.models import Person
from tests.accounts.conftest import confirmation_key, do_confirmation, show_confirmation
from tests.factories import make_patch, make_person, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
GOOD = {
    "username": "newbie",
    "first_name": "Nora",
    "last_name": "Newbie",
    "email": "Nora@Example.org",
    "password1": "correct horse battery",
    "password2": "correct horse battery",
}


def register(client, **changes):
    return client.post(reverse("register"), {**GOOD, **changes})


def test_form_page(client):
    response = client.get(reverse("register"))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("username", "email", "password1", "password2"):
        assert f'name="{name}"' in html
    assert '<label for="id_email"' in html


def test_signed_in_user_is_sent_to_profile(client, stranger):
    client.force_login(stranger)
    assert client.get(reverse("register")).url == reverse("user-profile")


def test_full_flow_register_confirm_login(client, mailoutbox, project):
    # Mail sent before registering, from the same address in another case.
    old = make_person("nora@example.org", name="Nora")
    patch = make_patch(project, submitter=old)

    response = register(client)
    assert response.status_code == 200
    assert "Check your mail" in response.content.decode()
    user = User.objects.get(username="newbie")
    assert not user.is_active
    assert user.check_password("correct horse battery")
    assert (user.first_name, user.last_name) == ("Nora", "Newbie")

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["Nora@Example.org"]
    assert "newbie" in mail.body
    key = confirmation_key(mail)
    assert mail.body.count("http://testserver/confirm/#") == 1

    # Not confirmed yet: no log-in, and the reason is given to whoever knows the password.
    response = client.post(
        reverse("login"), {"username": "newbie", "password": "correct horse battery"}
    )
    assert "not active yet" in response.content.decode()
    assert "_auth_user_id" not in client.session

    # The key shows a page; only the button confirms (link scanners don't activate).
    page = show_confirmation(client, key)
    assert page.status_code == 200
    assert "Activate your account" in page.content.decode()
    user.refresh_from_db()
    assert not user.is_active

    done = do_confirmation(client, key, PASSWORD)
    assert done.status_code == 200
    user.refresh_from_db()
    assert user.is_active
    assert client.session["_auth_user_id"] == str(user.pk)
    old.refresh_from_db()
    assert old.user == user
    assert patch.submitter.user == user
    assert Person.objects.filter(email__iexact="nora@example.org").count() == 1
    assert not EmailConfirmation.objects.get(key=key).active

    client.logout()
    response = client.post(
        reverse("login"), {"username": "newbie", "password": "correct horse battery"}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_confirming_creates_person_when_none_sent_mail(client, mailoutbox):
    register(client)
    do_confirmation(client, confirmation_key(mailoutbox[0]), PASSWORD)
    person = Person.objects.get(email="Nora@Example.org")
    assert person.user.username == "newbie"
    assert person.name == "Nora Newbie"


def test_link_used_twice_is_refused(client, mailoutbox):
    register(client)
    key = confirmation_key(mailoutbox[0])
    do_confirmation(client, key, PASSWORD)
    client.logout()
    for method in (show_confirmation, do_confirmation):
        response = method(client, key)
        assert response.status_code == 410
        assert "already used" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_expired_confirmation_is_refused(client, mailoutbox, settings):
    register(client)
    key = confirmation_key(mailoutbox[0])
    EmailConfirmation.objects.filter(key=key).update(
        date=timezone.now() - timedelta(days=settings.CONFIRMATION_VALIDITY_DAYS, minutes=1)
    )
    for method in (show_confirmation, do_confirmation):
        response = method(client, key)
        assert response.status_code == 410
        assert "expired" in response.content.decode()
    assert not User.objects.get(username="newbie").is_active
    assert EmailConfirmation.objects.get(key=key).active
    assert "_auth_user_id" not in client.session


def test_unknown_key_is_404(client):
    assert show_confirmation(client, "0" * 64).status_code == 404
    assert do_confirmation(client, "nope", PASSWORD).status_code == 404


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"username": ""}, "username", "This field is required"),
        ({"username": "bad name!"}, "username", "Enter a valid username"),
        # An address as a username would take that address's login from its owner.
        ({"username": "maintainer@example.com"}, "username", "Enter a valid username"),
        ({"username": "someone@example.org"}, "username", "Enter a valid username"),
        ({"username": "MAINTAINER"}, "username", "This username is taken"),
        ({"email": "not-an-address"}, "email", "Enter a valid email address"),
        ({"email": "Maintainer@example.com"}, "email", "An account already uses this address"),
        ({"email": "linked@example.com"}, "email", "An account already uses this address"),
        ({"password2": "something else entirely"}, "password2", "The two passwords differ"),
        ({"password1": "short", "password2": "short"}, "password1", "too short"),
        ({"password1": "password", "password2": "password"}, "password1", "too common"),
        ({"password1": "newbie123x", "password2": "newbie123x"}, "password1", "too similar"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    client, mailoutbox, maintainer, changes, field, message
):
    make_person("linked@example.com", user=maintainer)
    users_before = User.objects.count()
    response = register(client, **changes)
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert User.objects.count() == users_before
    assert not EmailConfirmation.objects.exists()
    assert mailoutbox == []


SQUATTER = {
    "username": "squatter",
    "password1": "squatter secret 1",
    "password2": "squatter secret 1",
}


def test_a_second_registration_replaces_the_waiting_one(client, mailoutbox):
    # The probe: a stranger registered the owner's address first; the owner's own
    # registration was refused with "follow the link in the mail we sent", a link that
    # activates the account whose password the stranger chose.
    assert register(client, **SQUATTER).status_code == 200
    response = register(client)
    assert response.status_code == 200
    assert len(mailoutbox) == 2
    squatter_key, owner_key = (confirmation_key(mail) for mail in mailoutbox)
    assert not User.objects.filter(username="squatter").exists()
    assert show_confirmation(client, squatter_key).status_code == 404
    assert do_confirmation(client, owner_key, PASSWORD).status_code == 200
    assert User.objects.get(username="newbie").is_active


def test_activating_takes_the_password_chosen_at_registration(client, mailoutbox):
    register(client, **SQUATTER)
    key = confirmation_key(mailoutbox[0])
    # The address's owner follows the link but does not know the squatter's password.
    response = do_confirmation(client, key, PASSWORD)
    assert response.status_code == 400
    assert "register again yourself" in response.content.decode()
    assert not User.objects.get(username="squatter").is_active
    assert EmailConfirmation.objects.get(key=key).active
    assert "_auth_user_id" not in client.session
    assert do_confirmation(client, key, "").status_code == 400
    assert not User.objects.get(username="squatter").is_active


def test_expired_registration_frees_username_and_address(client, mailoutbox, settings):
    register(client)
    EmailConfirmation.objects.update(
        date=timezone.now() - timedelta(days=settings.CONFIRMATION_VALIDITY_DAYS + 1)
    )
    response = register(client)
    assert response.status_code == 200
    assert len(mailoutbox) == 2
    assert User.objects.filter(username="newbie").count() == 1
    assert EmailConfirmation.objects.get().key == confirmation_key(mailoutbox[1])


def test_failed_mail_leaves_no_account(client, monkeypatch):
    def broken(**kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("apps.accounts.views.confirmation_mail_send", broken)
    client.raise_request_exception = False
    response = register(client)
    assert response.status_code == 500
    assert not User.objects.filter(username="newbie").exists()
    assert not EmailConfirmation.objects.exists()


def test_registrations_are_throttled_per_client(client, mailoutbox):
    from apps.accounts import throttle

    for n in range(throttle.MAILS_PER_ADDRESS):
        assert register(client, username=f"u{n}", email=f"u{n}@example.org").status_code == 200
    response = register(client, username="onemore", email="onemore@example.org")
    assert response.status_code == 429
    assert "Too many confirmation mails" in response.content.decode()
    assert not User.objects.filter(username="onemore").exists()
    assert len(mailoutbox) == throttle.MAILS_PER_ADDRESS


def test_inactive_account_message_needs_the_password(client):
    make_user("dormant", is_active=False)
    response = client.post(reverse("login"), {"username": "dormant", "password": "wrong"})
    assert "not active yet" not in response.content.decode()
    assert "correct username and password" in response.content.decode()
