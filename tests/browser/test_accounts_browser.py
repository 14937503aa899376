"""In a real browser: register, confirm from the mailed link, generate an API token.

A daphne server runs in a subprocess over the test database and writes its mail
to files, which the test reads like an inbox. Screenshots of the account pages
at desktop and phone widths are kept under test-artifacts/browser/.
"""

from __future__ import annotations

import email
import re
from pathlib import Path

import pytest

from apps.accounts.models import APIToken, User
from apps.projects.models import Person
from tests import browsers
from tests.browsers import DESKTOP, PHONE, needs_chromium
from tests.factories import make_patch, make_person, make_project
from tests.servers import Daphne, process_env

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]


class Server(Daphne):
    """daphne whose mail lands in files under mail_dir, read like an inbox."""

    def __init__(self, tmp: Path):
        self.mail_dir = tmp / "mail"
        self.mail_dir.mkdir()
        env = process_env(
            EMAIL_BACKEND="tests.browser.accounts_mail.EmailBackend",
            EMAIL_FILE_PATH=str(self.mail_dir),
        )
        super().__init__(env, tmp / "daphne.log")

    def messages(self) -> list[email.message.Message]:
        """Every mail the server sent so far, oldest first."""
        found = []
        for path in sorted(self.mail_dir.iterdir(), key=lambda p: p.stat().st_mtime_ns):
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    found.append(email.message_from_bytes(chunk.lstrip(b"\n")))
        return found


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("accounts-server"))
    try:
        yield server
    finally:
        server.stop()


def shoot(page, name: str) -> None:
    browsers.shoot(page, "browser", name)


def test_register_confirm_from_mail_and_generate_token(server, browser):
    project = make_project("demo", name="Demo")
    earlier = make_person("ada@example.org", name="Ada")
    make_patch(project, submitter=earlier, name="[PATCH] an earlier patch of Ada's")

    page = browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(15000)
    page.goto(server.url + "/")
    page.get_by_role("link", name="Register").first.click()
    page.wait_for_url("**/register/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("E-mail address").fill("ada@example.org")
    page.get_by_label(re.compile(r"^Password:?$")).fill("analytical engine 1843")
    page.get_by_label("Password again").fill("analytical engine 1843")
    shoot(page, "register-desktop")
    page.get_by_role("button", name="Register").click()
    page.get_by_role("heading", name="Check your mail").wait_for()

    mails = [m for m in server.messages() if m["To"] == "ada@example.org"]
    assert len(mails) == 1, server.log()
    body = mails[0].get_payload(decode=True).decode()
    link = re.search(rf"{re.escape(server.url)}/confirm/#\w+", body).group(0)
    assert not User.objects.get(username="ada").is_active

    page.goto(link)  # confirm.js posts the key from after the '#'
    page.get_by_role("heading", name="Activate your account").wait_for()
    assert "#" not in page.url
    page.get_by_label("Password").fill("analytical engine 1843")
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("is active and you are logged in").wait_for()
    ada = User.objects.get(username="ada")
    assert ada.is_active
    earlier.refresh_from_db()
    assert earlier.user == ada
    assert Person.objects.filter(email__iexact="ada@example.org").count() == 1

    page.get_by_role("link", name="Go to your profile").click()
    page.get_by_role("heading", name="API token").wait_for()
    page.get_by_role("button", name="Generate token").click()
    key = page.locator("#token-key").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    assert APIToken.objects.get(user=ada).digest == APIToken.digest_for(key)
    shoot(page, "profile-token-desktop")

    # Shown once: a fresh load of the profile only names the token's prefix.
    page.goto(server.url + "/user/")
    assert key not in page.content()
    assert f"{key[:8]}" in page.content()

    # Regenerating replaces it.
    page.get_by_role("button", name="Regenerate token").click()
    second = page.locator("#token-key").inner_text().strip()
    assert second != key
    assert APIToken.objects.get(user=ada).digest == APIToken.digest_for(second)

    # The account pages work on a phone.
    phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.context.add_cookies(page.context.cookies())
    for path, name in (("/user/", "profile"), ("/mail/settings/", "mail-settings")):
        phone.goto(server.url + path)
        shoot(phone, f"{name}-phone")
    phone.context.clear_cookies()
    for path, name in (("/register/", "register"), ("/user/login/", "login"), ("/about/", "about")):
        phone.goto(server.url + path)
        shoot(phone, f"{name}-phone")


def test_wrong_password_then_login_by_keyboard(server, browser):
    User.objects.create_user("kbd", "kbd@example.org", "typed on keys only")
    page = browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(15000)
    page.goto(server.url + "/user/login/")
    # Tab order reaches the fields and the button; Enter submits.
    page.get_by_label("Username").focus()
    page.keyboard.type("kbd")
    page.keyboard.press("Tab")
    page.keyboard.type("wrong")
    page.keyboard.press("Enter")
    page.get_by_text("Please enter a correct username and password").wait_for()
    page.get_by_label("Password").fill("typed on keys only")
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(server.url + "/")
    assert page.get_by_role("link", name="kbd").count() >= 1
    shoot(page, "home-logged-in-desktop")
