"""In a real browser: register, confirm from the mailed link, generate an API token.

A daphne server runs in a subprocess over the test database and writes its mail
to files, which the test reads like an inbox. Screenshots of the account pages
at desktop and phone widths are kept under test-artifacts/browser/.
"""

from __future__ import annotations

import email
import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from apps.projects.models import APIToken, Person, User
from tests.factories import make_patch, make_person, make_project

ROOT = Path(__file__).resolve().parents[2]
DAPHNE = Path(sys.executable).with_name("daphne")
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", ROOT / "test-artifacts")) / "browser"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings, tmp_path_factory):
    """On SQLite, keep the test database in a file the server subprocess can open."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(
            tmp_path_factory.mktemp("accounts-db") / "test.sqlite3"
        )


def _database_url() -> str:
    db = settings.DATABASES["default"]
    name = str(db["NAME"])
    if db["ENGINE"].endswith("sqlite3"):
        if name == ":memory:" or "mode=memory" in name:
            pytest.skip(
                "the SQLite test database is in memory (another test area created it first): "
                "run this file alone, or with DATABASE_URL, to drive a real server"
            )
        return f"sqlite:///{name}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}{port}/{name}"


class Server:
    """daphne on a loopback port the OS picked; its mail lands in files under mail_dir."""

    def __init__(self, tmp: Path):
        self.mail_dir = tmp / "mail"
        self.mail_dir.mkdir()
        self.log_path = tmp / "daphne.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=_database_url(),
            DEBUG="1",
            SECRET_KEY="accounts-browser-tests",
            ALLOWED_HOSTS="127.0.0.1",
            CELERY_TASK_ALWAYS_EAGER="1",
            EMAIL_BACKEND="tests.browser.accounts_mail.EmailBackend",
            EMAIL_FILE_PATH=str(self.mail_dir),
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        try:
            self.process = subprocess.Popen(
                [str(DAPHNE), "--fd", str(sock.fileno()), "-v", "0", "config.asgi:application"],
                cwd=ROOT,
                env=env,
                pass_fds=[sock.fileno()],
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
        finally:
            sock.close()
        try:
            with urllib.request.urlopen(f"{self.url}/about/", timeout=60) as response:
                response.read()
        except Exception as exc:
            self.stop()
            raise RuntimeError(f"daphne did not start: {exc}\n{self.log()}") from exc

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()

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


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread while it runs; the
    # ORM calls the tests (and the database teardown) make meanwhile are ordinary
    # synchronous ones.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def shoot(page, name: str) -> None:
    """Keep a full-page screenshot and check nothing overflows sideways."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: page is {overflow}px wider than the viewport"


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
    link = re.search(rf"{re.escape(server.url)}/confirm/\w+/", body).group(0)
    assert not User.objects.get(username="ada").is_active

    page.goto(link)
    page.get_by_role("heading", name="Activate your account").wait_for()
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
