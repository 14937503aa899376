"""The read-only XML-RPC methods, called through xmlrpc.client against a running daphne."""

from __future__ import annotations

import datetime as dt

from apps.projects.models import State
from tests.factories import (
    default_state,
    make_check,
    make_patch,
    make_person,
    make_project,
    make_series,
    make_user,
)
from tests.xmlrpc.conftest import live

pytestmark = live

PATCH_KEYS = {
    "id",
    "date",
    "filename",
    "msgid",
    "name",
    "project",
    "project_id",
    "state",
    "state_id",
    "archived",
    "submitter",
    "submitter_id",
    "delegate",
    "delegate_id",
    "commit_ref",
    "hash",
}


def ids(items):
    return [item["id"] for item in items]


def test_pw_rpc_version(rpc):
    assert rpc.pw_rpc_version() == [1, 3, 0]


def test_project_list_searches_linkname_case_insensitively(rpc, project):
    other = make_project("linux-kernel", name="Demo Linux")
    assert rpc.project_list() == [
        {"id": project.pk, "linkname": "demo", "name": "Demo"},
        {"id": other.pk, "linkname": "linux-kernel", "name": "Demo Linux"},
    ]
    assert ids(rpc.project_list("KERNEL", 0)) == [other.pk]
    # The name is not searched, only the linkname.
    assert rpc.project_list("Linux Kernel", 0) == []
    # pwclient sends nil when it has no search string.
    assert ids(rpc.project_list(None, 0)) == [project.pk, other.pk]


def test_max_count_first_and_last_in_id_order(rpc):
    projects = [make_project(f"p{n}") for n in range(5)]
    all_ids = [p.pk for p in projects]
    assert ids(rpc.project_list("", 0)) == all_ids
    assert ids(rpc.project_list("", 2)) == all_ids[:2]
    assert ids(rpc.project_list("", -2)) == all_ids[-2:]
    assert ids(rpc.project_list("", -10)) == all_ids


def test_project_get(rpc, project):
    assert rpc.project_get(project.pk) == {"id": project.pk, "linkname": "demo", "name": "Demo"}
    assert rpc.project_get(project.pk + 1000) == {}


def test_person_list_and_get(rpc, submitter, submitter_user):
    nameless = make_person("nobody@example.org", name="")
    nameless.name = ""
    nameless.save()
    other = make_person("carol@example.com", name="Carol Coder")

    assert rpc.person_get(submitter.pk) == {
        "id": submitter.pk,
        "email": submitter.email,
        "name": "Sam Submitter",
        "user": submitter_user.username,
    }
    # No name: the e-mail address stands in; no account: user is "".
    assert rpc.person_get(nameless.pk) == {
        "id": nameless.pk,
        "email": "nobody@example.org",
        "name": "nobody@example.org",
        "user": "",
    }
    assert rpc.person_get(nameless.pk + 1000) == {}
    assert ids(rpc.person_list("carol", 0)) == [other.pk]  # name, case-insensitive
    assert ids(rpc.person_list("example.org", 0)) == [nameless.pk]  # e-mail
    assert ids(rpc.person_list("", -1)) == [other.pk]
    assert ids(rpc.person_list()) == [submitter.pk, nameless.pk, other.pk]


def test_patch_get_has_every_key(rpc, project, submitter, maintainer):
    patch = make_patch(
        project,
        name="[PATCH v2 1/3] net: fix the frobnicator",
        msgid="<20240101.1234@example.com>",
        submitter=submitter,
        date=dt.datetime(2024, 3, 5, 7, 8, 9, tzinfo=dt.UTC),
        delegate=maintainer,
        commit_ref="abc123",
        hash="0123456789abcdef0123456789abcdef01234567",
        archived=True,
        state=default_state("accepted"),
    )
    assert rpc.patch_get(patch.pk) == {
        "id": patch.pk,
        "date": "2024-03-05 07:08:09",
        "filename": "PATCH-v2-1-3-net-fix-the-frobnicator",
        "msgid": "<20240101.1234@example.com>",
        "name": "[PATCH v2 1/3] net: fix the frobnicator",
        "project": "Demo",
        "project_id": project.pk,
        "state": "Accepted",
        "state_id": patch.state_id,
        "archived": True,
        "submitter": f"Sam Submitter <{submitter.email}>",
        "submitter_id": submitter.pk,
        "delegate": "maintainer",
        "delegate_id": maintainer.pk,
        "commit_ref": "abc123",
        "hash": "0123456789abcdef0123456789abcdef01234567",
    }


def test_patch_get_unset_fields_and_missing_patch(rpc, project):
    patch = make_patch(project)
    got = rpc.patch_get(patch.pk)
    assert set(got) == PATCH_KEYS
    assert got["delegate"] == "" and got["delegate_id"] == 0
    assert got["commit_ref"] == "" and got["hash"] == ""
    assert got["archived"] is False and got["state"] == "New"
    assert rpc.patch_get(patch.pk + 1000) == {}


def test_patch_list_filters(rpc, project, submitter, maintainer):
    other_project = make_project("other")
    accepted = default_state("accepted")
    first = make_patch(project, submitter=submitter, name="[PATCH] alpha fix")
    second = make_patch(
        project, state=accepted, archived=True, hash="feedface" * 5, name="[PATCH] beta"
    )
    third = make_patch(other_project, delegate=maintainer, msgid="<third@example.com>")
    series = make_series(project)
    fourth = make_patch(project, series=series, commit_ref="deadbeef", name="[PATCH] gamma")

    assert ids(rpc.patch_list({})) == [first.pk, second.pk, third.pk, fourth.pk]
    assert ids(rpc.patch_list()) == [first.pk, second.pk, third.pk, fourth.pk]
    assert ids(rpc.patch_list({"project_id": other_project.pk})) == [third.pk]
    assert ids(rpc.patch_list({"state_id": accepted.pk})) == [second.pk]
    assert ids(rpc.patch_list({"archived": True})) == [second.pk]
    assert ids(rpc.patch_list({"archived": False, "project_id": project.pk})) == [
        first.pk,
        fourth.pk,
    ]
    assert ids(rpc.patch_list({"submitter_id": submitter.pk})) == [first.pk]
    assert ids(rpc.patch_list({"hash": "feedface" * 5})) == [second.pk]
    assert ids(rpc.patch_list({"msgid": "<third@example.com>"})) == [third.pk]
    assert ids(rpc.patch_list({"msgid": "third@example.com"})) == [third.pk]
    assert ids(rpc.patch_list({"name__icontains": "ALPHA"})) == [first.pk]
    assert ids(rpc.patch_list({"name__startswith": "[PATCH] g"})) == [fourth.pk]
    assert ids(rpc.patch_list({"commit_ref": "deadbeef"})) == [fourth.pk]
    assert ids(rpc.patch_list({"id__in": [first.pk, third.pk]})) == [first.pk, third.pk]
    assert ids(rpc.patch_list({"id__gt": second.pk, "id__lt": fourth.pk})) == [third.pk]
    assert ids(rpc.patch_list({"hash__isnull": False})) == [second.pk]
    # pwclient sends the series id as a string.
    assert ids(rpc.patch_list({"series": str(series.pk)})) == [fourth.pk]
    assert ids(rpc.patch_list({"series": series.pk})) == [fourth.pk]
    assert ids(rpc.patch_list({"max_count": 2})) == [first.pk, second.pk]
    assert ids(rpc.patch_list({"max_count": -2})) == [third.pk, fourth.pk]
    assert ids(rpc.patch_list({"project_id": project.pk, "max_count": -1})) == [fourth.pk]


def test_patch_list_dates(rpc, project):
    old = make_patch(project, date=dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    new = make_patch(project, date=dt.datetime(2024, 6, 7, 8, 9, 10, tzinfo=dt.UTC))
    assert ids(rpc.patch_list({"date__year": 2020})) == [old.pk]
    assert ids(rpc.patch_list({"date__gt": "2023-01-01"})) == [new.pk]
    assert ids(rpc.patch_list({"date__gt": dt.datetime(2023, 1, 1)})) == [new.pk]
    assert ids(rpc.patch_list({"date__range": ["2019-01-01", "2021-01-01"]})) == [old.pk]


def test_patch_list_delegate_is_a_person_id(rpc, project, maintainer):
    """pwclient list -d NAME sends the ids of people matching NAME as delegate_id."""
    maintainer_person = make_person("mae@example.com", name="Mae Maintainer", user=maintainer)
    no_account = make_person("ghost@example.com")
    delegated = make_patch(project, delegate=maintainer)
    make_patch(project)

    assert ids(rpc.patch_list({"delegate_id": maintainer_person.pk})) == [delegated.pk]
    assert rpc.patch_list({"delegate_id": no_account.pk}) == []
    assert rpc.patch_list({"delegate_id": no_account.pk + 1000}) == []
    assert len(rpc.patch_list({"delegate_id__isnull": True})) == 1


def test_patch_list_unknown_things_match_nothing(rpc, project):
    make_patch(project)
    assert rpc.patch_list({"project_id": project.pk + 1000}) == []
    assert rpc.patch_list({"state_id": 9999}) == []
    assert rpc.patch_list({"submitter_id": 9999}) == []
    assert rpc.patch_list({"no_such_field": 1}) == []
    assert rpc.patch_list({"name__regex": ".*"}) == []  # not an allowed lookup
    assert rpc.patch_list({"name__year": 2020}) == []  # a lookup the field lacks
    assert rpc.patch_list({"content__icontains": "x"}) == []  # not an exposed field


def test_patch_get_by_hash(rpc, project):
    other = make_project("other")
    hash_ = "a" * 40
    in_demo = make_patch(project, hash=hash_)
    in_other = make_patch(other, hash=hash_)
    assert rpc.patch_get_by_hash(hash_)["id"] == in_demo.pk
    assert rpc.patch_get_by_project_hash("other", hash_)["id"] == in_other.pk
    assert rpc.patch_get_by_project_hash("demo", hash_)["id"] == in_demo.pk
    assert rpc.patch_get_by_project_hash("nope", hash_) == {}
    assert rpc.patch_get_by_hash("b" * 40) == {}
    assert rpc.patch_get_by_hash("") == {}


def test_patch_get_diff(rpc, project):
    patch = make_patch(project, diff="--- a/x\n+++ b/x\n@@ -1 +1 @@\n-é\n+ü\n")
    empty = make_patch(project, diff=None)
    assert rpc.patch_get_diff(patch.pk) == "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-é\n+ü\n"
    assert rpc.patch_get_diff(empty.pk) == ""
    assert rpc.patch_get_diff(patch.pk + 1000) == ""


def test_state_list_and_get(rpc):
    states = list(State.objects.order_by("id"))
    assert rpc.state_list() == [{"id": s.pk, "name": s.name} for s in states]
    accepted = default_state("accepted")
    # pwclient looks states up by what the user typed, in any case.
    assert rpc.state_list("accep", 0) == [{"id": accepted.pk, "name": "Accepted"}]
    assert rpc.state_list("", 1) == [{"id": states[0].pk, "name": states[0].name}]
    assert rpc.state_get(accepted.pk) == {"id": accepted.pk, "name": "Accepted"}
    assert rpc.state_get(99999) == {}


def test_check_list_and_get(rpc, project, maintainer):
    robot = make_user("robot")
    other = make_project("other", maintainers=[robot])
    patch = make_patch(project)
    other_patch = make_patch(other, name="[PATCH] elsewhere")
    mine = make_check(
        patch,
        maintainer,
        state="fail",
        context="build",
        target_url="https://ci.example.com/1",
        description="broke",
        date=dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    )
    theirs = make_check(other_patch, robot, state="success", context="lint")

    assert rpc.check_get(mine.pk) == {
        "id": mine.pk,
        "date": "2024-01-02 03:04:05",
        "patch": patch.name,
        "patch_id": patch.pk,
        "user": "maintainer",
        "user_id": maintainer.pk,
        "state": "fail",
        "target_url": "https://ci.example.com/1",
        "description": "broke",
        "context": "build",
    }
    got = rpc.check_get(theirs.pk)
    assert got["target_url"] == "" and got["description"] == ""
    assert rpc.check_get(theirs.pk + 1000) == {}

    assert ids(rpc.check_list()) == [mine.pk, theirs.pk]
    assert ids(rpc.check_list({})) == [mine.pk, theirs.pk]
    assert ids(rpc.check_list({"patch_id": other_patch.pk})) == [theirs.pk]
    assert ids(rpc.check_list({"project_id": project.pk})) == [mine.pk]
    assert ids(rpc.check_list({"user": "robot"})) == [theirs.pk]
    assert ids(rpc.check_list({"user": robot.pk})) == [theirs.pk]
    assert ids(rpc.check_list({"user": str(robot.pk)})) == [theirs.pk]
    assert ids(rpc.check_list({"id": mine.pk})) == [mine.pk]
    assert ids(rpc.check_list({"max_count": -1})) == [theirs.pk]
    assert rpc.check_list({"user": "nobody"}) == []
    assert rpc.check_list({"state": "fail"}) == []  # not a check_list field


def test_patch_check_get_combines_the_latest_checks(rpc, project, maintainer):
    robot = make_user("robot")
    patch = make_patch(project)
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    make_check(patch, maintainer, context="build", state="fail", date=t0)
    newer = make_check(
        patch, maintainer, context="build", state="success", date=t0 + dt.timedelta(hours=1)
    )
    lint = make_check(patch, robot, context="lint", state="warning", date=t0)

    combined = rpc.patch_check_get(patch.pk)
    assert combined["state"] == "warning"
    assert combined["total"] == 2
    assert sorted(ids(combined["checks"])) == sorted([newer.pk, lint.pk])
    assert {c["context"]: c["state"] for c in combined["checks"]} == {
        "build": "success",
        "lint": "warning",
    }

    unchecked = make_patch(project)
    assert rpc.patch_check_get(unchecked.pk) == {"state": "pending", "total": 0, "checks": []}
    assert rpc.patch_check_get(patch.pk + 1000) == {}


def test_patch_get_mbox(rpc, project, submitter):
    patch = make_patch(
        project,
        name="[PATCH] README: say more",
        msgid="<mbox-test@example.com>",
        submitter=submitter,
        content="Say more in the README.\n\nSigned-off-by: Sam Submitter <s@example.com>",
    )
    mbox = rpc.patch_get_mbox(patch.pk)
    assert mbox.startswith("From ")
    assert "Subject: [PATCH] README: say more" in mbox
    assert f"From: Sam Submitter <{submitter.email}>" in mbox
    assert "Message-Id: <mbox-test@example.com>" in mbox or "Message-ID: <mbox-test" in mbox
    assert "Say more in the README." in mbox
    assert "+++ b/README\n@@ -1,2 +1,3 @@\n hello\n+world\n bye" in mbox
    assert rpc.patch_get_mbox(patch.pk + 1000) == ""
