"""The profile page: settings, linked addresses, maintained projects; who may see what."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.models import EmailConfirmation, EmailOptout, User
from apps.projects.models import Person
from tests.accounts.conftest import confirmation_key, do_confirmation, show_confirmation
from tests.factories import make_patch, make_person, make_project

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name, method",
    [
        ("user-profile", "get"),
        ("user-profile", "post"),
        ("user-link", "post"),
        ("user-token", "post"),
        ("password_change", "get"),
    ],
)
def test_anonymous_is_sent_to_login(client, name, method):
    response = getattr(client, method)(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


def test_unlink_anonymous_is_sent_to_login(client, submitter):
    response = client.post(reverse("user-unlink", args=[submitter.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    submitter.refresh_from_db()
    assert submitter.user is not None


def test_profile_shows_addresses_projects_and_settings(
    client, maintainer, project, django_assert_max_num_queries
):
    make_person("mae@work.example", user=maintainer)
    make_person("mae-old@home.example", user=maintainer)
    EmailOptout.objects.create(email="mae-old@home.example")
    make_project("other", maintainers=[maintainer])
    make_project("notmine")
    client.force_login(maintainer)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("user-profile"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "maintainer@example.com" in html and "(primary)" in html
    assert "mae@work.example" in html and "mae-old@home.example" in html
    rows = {a.email: a for a in response.context["addresses"]}
    assert rows["mae-old@home.example"].opted_out
    assert not rows["mae@work.example"].opted_out
    assert [p.linkname for p in response.context["maintained_projects"]] == ["demo", "other"]
    assert "notmine" not in html.lower()
    assert 'name="items_per_page"' in html and 'name="show_ids"' in html
    assert "Generate token" in html
    assert reverse("webhook-list") in html


def test_profile_query_count_does_not_grow_with_addresses(
    client, maintainer, django_assert_max_num_queries
):
    for n in range(20):
        make_person(f"alias{n}@example.com", user=maintainer)
        make_project(f"p{n}", maintainers=[maintainer])
    client.force_login(maintainer)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("user-profile")).status_code == 200


def test_profile_shows_only_own_data(client, stranger, submitter):
    client.force_login(stranger)
    html = client.get(reverse("user-profile")).content.decode()
    assert submitter.email not in html


def test_settings_are_saved(client, stranger):
    client.force_login(stranger)
    response = client.post(
        reverse("user-profile"),
        {"first_name": "Stan", "last_name": "Ger", "items_per_page": "25", "show_ids": "on"},
    )
    assert response.status_code == 302
    stranger.refresh_from_db()
    assert (stranger.items_per_page, stranger.show_ids, stranger.send_email) == (25, True, False)
    assert stranger.first_name == "Stan"
    page = client.get(reverse("user-profile"))
    assert "Your settings were saved." in page.content.decode()
    assert page.context["settings_form"].initial["items_per_page"] == 25


@pytest.mark.parametrize("value", ["0", "-3", "501", "lots", ""])
def test_bad_settings_are_refused_and_change_nothing(client, stranger, value):
    client.force_login(stranger)
    before = User.objects.values().get(pk=stranger.pk)
    response = client.post(
        reverse("user-profile"), {"items_per_page": value, "show_ids": "on", "first_name": "X"}
    )
    assert response.status_code == 400
    assert response.context["settings_form"].errors["items_per_page"]
    assert 'id="id_items_per_page_error"' in response.content.decode()
    assert User.objects.values().get(pk=stranger.pk) == before


def test_link_second_address_flow(client, mailoutbox, stranger, project):
    old = make_person("stan@home.example")
    patch = make_patch(project, submitter=old)
    client.force_login(stranger)
    response = client.post(reverse("user-link"), {"email": "Stan@Home.example"})
    assert response.status_code == 200
    assert "Check your mail" in response.content.decode()
    assert mailoutbox[0].to == ["Stan@Home.example"]
    assert "stranger" in mailoutbox[0].body
    old.refresh_from_db()
    assert old.user is None  # nothing changes before the mail is answered
    page = client.get(reverse("user-profile"))
    assert "Waiting for confirmation" in page.content.decode()

    key = confirmation_key(mailoutbox[0])
    assert "Link an e-mail address" in show_confirmation(client, key).content.decode()
    response = do_confirmation(client, key)
    assert response.status_code == 200
    old.refresh_from_db()
    assert old.user == stranger
    patch.refresh_from_db()
    assert patch.submitter.user == stranger
    emails = [a.email for a in client.get(reverse("user-profile")).context["addresses"]]
    assert emails == ["stranger@example.com", "stan@home.example"]


def test_link_confirmation_works_from_another_browser(client, mailoutbox, stranger):
    """The key proves the mailbox; the link may be opened where nobody is logged in."""
    client.force_login(stranger)
    client.post(reverse("user-link"), {"email": "new@example.net"})
    client.logout()
    do_confirmation(client, confirmation_key(mailoutbox[0]))
    assert Person.objects.get(email="new@example.net").user == stranger
    assert "_auth_user_id" not in client.session


def test_asking_again_replaces_the_earlier_link(client, mailoutbox, stranger):
    client.force_login(stranger)
    client.post(reverse("user-link"), {"email": "new@example.net"})
    client.post(reverse("user-link"), {"email": "new@example.net"})
    first, second = (confirmation_key(m) for m in mailoutbox)
    assert do_confirmation(client, first).status_code == 410
    assert do_confirmation(client, second).status_code == 200


@pytest.mark.parametrize(
    "email, message",
    [
        ("not an address", "Enter a valid email address"),
        ("", "This field is required"),
        ("STRANGER@example.com", "already linked to your account"),
        ("mine@example.com", "already linked to your account"),
        ("maintainer@example.com", "belongs to another account"),
        ("theirs@example.com", "belongs to another account"),
    ],
)
def test_bad_link_is_refused_and_changes_nothing(
    client, mailoutbox, stranger, maintainer, email, message
):
    make_person("mine@example.com", user=stranger)
    make_person("theirs@example.com", user=maintainer)
    client.force_login(stranger)
    response = client.post(reverse("user-link"), {"email": email})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not EmailConfirmation.objects.exists()
    assert mailoutbox == []


def test_link_needs_post(client, stranger):
    client.force_login(stranger)
    assert client.get(reverse("user-link")).status_code == 405


def test_unlink_address(client, stranger):
    alias = make_person("alias@example.com", user=stranger)
    client.force_login(stranger)
    response = client.post(reverse("user-unlink", args=[alias.pk]))
    assert response.status_code == 302
    alias.refresh_from_db()
    assert alias.user is None
    assert "no longer linked" in client.get(reverse("user-profile")).content.decode()


def test_primary_address_cannot_be_unlinked(client, submitter_user, submitter):
    client.force_login(submitter_user)
    client.post(reverse("user-unlink", args=[submitter.pk]))
    submitter.refresh_from_db()
    assert submitter.user == submitter_user
    assert "primary address" in client.get(reverse("user-profile")).content.decode()


def test_others_addresses_are_404(client, stranger, submitter):
    client.force_login(stranger)
    assert client.post(reverse("user-unlink", args=[submitter.pk])).status_code == 404
    assert client.post(reverse("user-unlink", args=[999999])).status_code == 404
    submitter.refresh_from_db()
    assert submitter.user is not None


def test_unlink_needs_post(client, stranger):
    alias = make_person("alias@example.com", user=stranger)
    client.force_login(stranger)
    assert client.get(reverse("user-unlink", args=[alias.pk])).status_code == 405
    alias.refresh_from_db()
    assert alias.user == stranger
