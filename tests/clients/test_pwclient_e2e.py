"""The real pwclient against a running server with ingested real mail, on both backends.

The .pwclientrc is the one the server generates for the project, switched to
the backend under test and given credentials. On the REST backend, pwclient
itself crashes in `states`, `list -n/-N` and hash lookups (`-h`) whatever the
server answers, so those run on the XML-RPC backend only.
"""

from __future__ import annotations

import configparser
import io
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.checks.models import Check
from apps.events.models import Event
from apps.patches.models import Patch
from apps.patches.services import patch_update
from apps.projects.models import State
from tests.factories import make_check, make_person, make_project, make_user
from tests.servers import live

pytestmark = [live, pytest.mark.e2e]

MAIL = Path(__file__).resolve().parents[1] / "data" / "mail" / "git"
PWCLIENT = Path(sys.executable).with_name("pwclient")
BACKENDS = ["xmlrpc", "rest"]

# The tree the test mails were made against (tests/data/mail/generate_git_mails.py).
BASE_TREE = {
    "src/frob.c": "int frob(int x)\n{\n\treturn x + 1;\n}\n",
    "README.md": "# Frobnicator\n\nIt frobs.\n",
    "docs/old.txt": "old\n",
    "docs/gone.txt": "this file goes away\n",
}

V1_FIX = "[1/3] frob: fix the frobnicator for negative input"
V1_DOCS = "[1/3]"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Frob:
    """The frob project with the v1 and v2 series and a single patch ingested from mail."""

    project: object
    maintainer: object
    v1: list[Patch]
    v2: list[Patch]
    single: Patch


def ingest(*scenarios: str) -> None:
    for scenario in scenarios:
        for path in sorted((MAIL / scenario).glob("*.eml")):
            out = io.StringIO()
            with pytest.raises(SystemExit) as exit_:  # it exits like the MTA pipe it serves
                call_command("parsemail", str(path), "--sync", stdout=out)
            assert exit_.value.code == 0 and "parsed" in out.getvalue(), (path, out.getvalue())


@pytest.fixture
def frob(maintainer) -> Frob:
    project = make_project(
        "frob",
        name="Frobnicator",
        listid="frob.lists.example.org",
        listemail="frob@lists.example.org",
        maintainers=[maintainer],
    )
    make_project("other", name="Other project")
    ingest("v1", "v2", "single")
    patches = list(Patch.objects.filter(project=project).order_by("id"))
    assert len(patches) == 6, [p.name for p in patches]
    return Frob(project, maintainer, v1=patches[:3], v2=patches[3:5], single=patches[5])


@pytest.fixture(params=BACKENDS)
def pwclient(request, daphne_server, frob, tmp_path):
    """pwclient(*args, user=..., cwd=...) -> Result, configured for one backend."""
    backend = request.param
    with urllib.request.urlopen(f"{daphne_server.url}/project/frob/pwclientrc/") as response:
        generated = response.read().decode()
    config = configparser.ConfigParser()
    config.read_string(generated)
    assert config.get("options", "default") == "frob"
    assert config.get("frob", "backend") == "rest"  # the REST API is on
    if backend == "xmlrpc":
        config.set("frob", "backend", "xmlrpc")
        config.set("frob", "url", f"{daphne_server.url}/xmlrpc/")
    else:
        assert config.get("frob", "url") == f"{daphne_server.url}/api/"
    # A second section, so that `-p other` has somewhere to go.
    config["other"] = dict(config["frob"])
    home = tmp_path / "home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if "proxy" not in key.lower() and not key.startswith(("PYTEST_", "DJANGO_"))
    }
    env.update(HOME=str(home), LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env.pop("PAGER", None)

    def run(*args: str, user: str | None = "maintainer", cwd: Path | None = None) -> Result:
        if user:
            config.set("frob", "username", user)
            config.set("frob", "password", "password")
        else:
            config.remove_option("frob", "username")
            config.remove_option("frob", "password")
        rc_path = home / ".pwclientrc"
        with open(rc_path, "w") as fh:
            config.write(fh)
        completed = subprocess.run(
            [str(PWCLIENT), *args],
            cwd=cwd or home,
            env={**env, "PWCLIENTRC": str(rc_path)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    run.backend = backend
    run.home = home
    return run


def ok(result: Result) -> str:
    assert result.returncode == 0, result
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def listed_ids(output: str) -> list[int]:
    """Patch ids from pwclient's default list format ("ID  State  Name")."""
    ids = []
    for line in output.splitlines():
        first = line.split(" ", 1)[0]
        if first.isdigit():
            ids.append(int(first))
    return ids


def pks(patches) -> list[int]:
    return [p.pk for p in patches]


def test_projects_and_states(pwclient, frob):
    projects = ok(pwclient("projects"))
    assert "frob" in projects and "Frobnicator" in projects and "other" in projects
    if pwclient.backend == "xmlrpc":
        states = ok(pwclient("states"))
        for name in State.objects.values_list("name", flat=True):
            assert name in states


def test_list_and_search(pwclient, frob):
    everything = pks(frob.v1 + frob.v2 + [frob.single])
    assert sorted(listed_ids(ok(pwclient("list")))) == sorted(everything)
    assert sorted(listed_ids(ok(pwclient("list", "-p", "frob")))) == sorted(everything)
    assert listed_ids(ok(pwclient("list", "-p", "other"))) == []

    # -s: by state, as typed (a prefix on XML-RPC, a name on REST).
    patch_update(patch=frob.v1[0], actor=None, state=State.objects.get(slug="accepted"))
    assert listed_ids(ok(pwclient("list", "-s", "Accepted"))) == [frob.v1[0].pk]
    # -a: archived or not.
    patch_update(patch=frob.v1[1], actor=None, archived=True)
    assert listed_ids(ok(pwclient("list", "-a", "yes"))) == [frob.v1[1].pk]
    assert frob.v1[1].pk not in listed_ids(ok(pwclient("list", "-a", "no")))

    # -w: by submitter (name or e-mail), grouped under "Patches submitted by".
    by_ada = ok(pwclient("list", "-w", "ada@example.org"))
    assert "Patches submitted by Ada Lovelace <ada@example.org>:" in by_ada
    assert sorted(listed_ids(by_ada)) == sorted(everything)

    # -d: by delegate.
    make_person("mae@example.com", name="Mae Maintainer", user=frob.maintainer)
    patch_update(patch=frob.v2[0], actor=None, delegate=frob.maintainer)
    delegated = ok(pwclient("list", "-d", "maintainer" if pwclient.backend == "rest" else "Mae"))
    assert "Patches delegated to maintainer:" in delegated
    assert listed_ids(delegated) == [frob.v2[0].pk]

    # -m / -H: by Message-ID and by hash.
    msgid = frob.v2[1].msgid
    assert listed_ids(ok(pwclient("list", "-m", msgid))) == [frob.v2[1].pk]
    assert listed_ids(ok(pwclient("list", "-H", frob.v2[0].hash))) == [frob.v2[0].pk]
    # The single patch is the same change as v1's third: the same hash.
    assert listed_ids(ok(pwclient("list", "-H", frob.single.hash))) == [
        frob.v1[2].pk,
        frob.single.pk,
    ]

    # STR: a name substring; search is the same command. (pwclient's REST backend
    # drops the substring and lists everything, whatever the server offers.)
    found = sorted(listed_ids(ok(pwclient("search", "frobnicator"))))
    if pwclient.backend == "xmlrpc":
        assert found == sorted([frob.v1[0].pk, frob.v2[0].pk])
    else:
        assert found == sorted(everything)

    # -f: format strings over the patch's fields (the REST API names states by slug).
    formatted = ok(pwclient("list", "-p", "frob", "-f", "%{id}|%{state}|%{_msgid_}|%{name}"))
    expected = {
        f"{p.pk}|{p.state.name if pwclient.backend == 'xmlrpc' else p.state.slug}|"
        f"{p.msgid.strip('<>')}|{p.name}"
        for p in Patch.objects.select_related("state").filter(project=frob.project)
    }
    assert set(formatted.splitlines()) == expected

    if pwclient.backend == "xmlrpc":
        # -n / -N: the first / last n (pwclient's REST backend refuses max_count).
        assert listed_ids(ok(pwclient("list", "-n", "2"))) == pks(frob.v1[:2])
        assert listed_ids(ok(pwclient("list", "-N", "2"))) == [frob.v2[1].pk, frob.single.pk]


def test_info_get_view(pwclient, frob, tmp_path):
    patch = frob.v1[0]
    info = ok(pwclient("info", str(patch.pk)))
    assert f"Information for patch id {patch.pk}" in info
    assert f"- name          : {patch.name}" in info
    assert f"- msgid         : {patch.msgid}" in info
    assert "- submitter     : Ada Lovelace <ada@example.org>" in info
    assert "- project       : Frobnicator" in info
    assert f"- hash          : {patch.hash}" in info

    work = tmp_path / "get"
    work.mkdir()
    saved = ok(pwclient("get", str(patch.pk), cwd=work))
    files = list(work.iterdir())
    assert len(files) == 1 and files[0].name.endswith(".patch"), files
    assert f"Saved patch to {files[0].name}" in saved
    mbox = files[0].read_text()
    assert "Subject: [PATCH 1/3] frob: fix the frobnicator for negative input" in mbox
    assert "+\tif (x < 0)\n+\t\treturn 0;" in mbox

    viewed = ok(pwclient("view", str(patch.pk), str(frob.single.pk)))
    assert "Negative input used to wrap around. Return 0 instead." in viewed
    assert "docs: add a logo, an empty file and a file without newline" in viewed

    missing = pwclient("info", "99999")
    assert missing.returncode == 1
    if pwclient.backend == "xmlrpc":  # pwclient's REST backend fails to say which
        assert "Unable to fetch patch 99999; does it exist?" in missing.stderr

    if pwclient.backend == "xmlrpc":
        by_hash = ok(pwclient("info", "-h", patch.hash))
        assert f"- id            : {patch.pk}" in by_hash
        assert pwclient("info", "-h", "0" * 40).returncode == 1


def _base_repo(path: Path) -> Path:
    path.mkdir()
    for name, text in BASE_TREE.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git = ["git", "-C", str(path)]
    env = {**os.environ, "GIT_AUTHOR_DATE": "2024-03-01T09:00:00Z"}
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "config", "user.name", "Tester"], check=True)
    subprocess.run([*git, "config", "user.email", "tester@example.com"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "initial import"], check=True, env=env)
    return path


def test_apply_and_git_am(pwclient, frob, tmp_path):
    plain = _base_repo(tmp_path / "plain")
    applied = ok(pwclient("apply", str(frob.v1[0].pk), cwd=plain))
    assert f"Applying patch #{frob.v1[0].pk} to current directory" in applied
    assert "return 0;" in (plain / "src/frob.c").read_text()

    repo = _base_repo(tmp_path / "repo")
    output = ok(pwclient("git-am", *[str(p.pk) for p in frob.v1], cwd=repo))
    assert 'using "git am"' in output
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--format=%an <%ae>|%s"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert log == [
        "Ada Lovelace <ada@example.org>|docs: add a logo, an empty file and a file without newline",
        "Ada Lovelace <ada@example.org>|docs: rename old.txt, drop gone.txt, make frob.c executable",
        "Ada Lovelace <ada@example.org>|frob: fix the frobnicator for negative input",
        "Tester <tester@example.com>|initial import",
    ]
    assert (repo / "docs/new.txt").read_text() == "old\n"
    assert not (repo / "docs/gone.txt").exists()
    assert (repo / "docs/logo.png").read_bytes().startswith(b"\x89PNG")
    assert (repo / "docs/nonl.txt").read_text() == "no newline"
    assert os.access(repo / "src/frob.c", os.X_OK)


def test_update(pwclient, frob):
    one, two, three = frob.v1
    accepted = State.objects.get(slug="accepted")
    review = State.objects.get(slug="under-review")

    ok(pwclient("update", "-s", "Accepted", "-c", "0123abcd", str(one.pk)))
    one.refresh_from_db()
    assert (one.state, one.commit_ref) == (accepted, "0123abcd")

    # Several ids at once.
    ok(pwclient("update", "-s", "Under Review", str(two.pk), str(three.pk)))
    ok(pwclient("update", "-a", "yes", str(two.pk), str(three.pk)))
    for patch in (two, three):
        patch.refresh_from_db()
        assert (patch.state, patch.archived) == (review, True)
    ok(pwclient("update", "-a", "no", str(three.pk)))
    three.refresh_from_db()
    assert three.archived is False

    # Events by people (ingesting v2 superseded v1's patches as the system, actor None).
    events = Event.objects.filter(category=Event.PATCH_STATE_CHANGED, actor__isnull=False).order_by(
        "id"
    )
    assert [(e.patch_id, e.actor.username) for e in events] == [
        (one.pk, "maintainer"),
        (two.pk, "maintainer"),
        (three.pk, "maintainer"),
    ]

    if pwclient.backend == "xmlrpc":
        ok(pwclient("update", "-h", frob.v2[1].hash, "-s", "Accepted"))
        frob.v2[1].refresh_from_db()
        assert frob.v2[1].state == accepted

    # Not allowed: the patch stays as it was.
    make_user("stranger")
    refused = pwclient("update", "-s", "Rejected", str(one.pk), user="stranger")
    assert refused.returncode != 0
    one.refresh_from_db()
    assert one.state == accepted


def test_checks(pwclient, frob):
    patch = frob.v1[0]
    robot = make_user("robot")
    frob.project.maintainers.add(robot)
    existing = make_check(patch, robot, context="lint", state="warning")
    make_check(frob.v2[0], robot, context="lint", state="fail")

    ok(
        pwclient(
            "check-create",
            "-c",
            "build",
            "-s",
            "success",
            "-u",
            "https://ci.example.com/1",
            "-d",
            "built fine",
            str(patch.pk),
        )
    )
    created = Check.objects.get(context="build")
    assert (created.patch, created.user, created.state) == (patch, frob.maintainer, "success")
    assert (created.target_url, created.description) == ("https://ci.example.com/1", "built fine")
    event = Event.objects.get(category=Event.CHECK_CREATED)
    assert (event.actor, event.created_check) == (frob.maintainer, created)

    listed = ok(pwclient("check-list", str(patch.pk)))
    lines = [line.split() for line in listed.splitlines()[2:]]
    assert sorted((int(line[0]), line[1], line[2]) for line in lines) == sorted(
        [(existing.pk, "lint", "warning"), (created.pk, "build", "success")]
    )
    by_user = ok(pwclient("check-list", "-u", "robot", str(patch.pk)))
    assert [int(line.split()[0]) for line in by_user.splitlines()[2:]] == [existing.pk]
    if pwclient.backend == "xmlrpc":
        everyone = ok(pwclient("check-list"))
        assert len(everyone.splitlines()) == 2 + 3
        by_robot = ok(pwclient("check-list", "-u", "robot"))
        assert len(by_robot.splitlines()) == 2 + 2

    info = ok(pwclient("check-info", str(patch.pk), str(created.pk)))
    assert f"Information for check id {created.pk}" in info
    assert "- context       : build" in info
    assert "- target_url    : https://ci.example.com/1" in info
    assert "- user          : maintainer" in info

    got = ok(pwclient("check-get", "-f", "%{context}:%{state}:%{user}", str(patch.pk)))
    assert sorted(got.splitlines()) == ["build:success:maintainer", "lint:warning:robot"]
    full = ok(pwclient("check-get", str(patch.pk)))
    assert f"Check information for patch id {patch.pk}" in full
    assert "- description   : built fine" in full

    # A submitter may not report checks; pwclient prints the reason.
    make_user("stranger")
    refused = pwclient("check-create", "-c", "x", "-s", "fail", str(patch.pk), user="stranger")
    assert Check.objects.filter(context="x").count() == 0
    assert refused.stderr.strip() or refused.stdout.strip()
