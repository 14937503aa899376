"""Small factory functions for tests; every argument has a sensible default."""

from __future__ import annotations

import itertools

from django.utils import timezone

from apps.accounts.models import User
from apps.checks.models import Check
from apps.patches.models import Bundle, BundlePatch, Cover, CoverComment, Patch, PatchComment
from apps.projects.models import Person, Project, State, Tag
from apps.series.models import Series

_seq = itertools.count(1)

SAMPLE_DIFF = """\
diff --git a/README b/README
index 1111111..2222222 100644
--- a/README
+++ b/README
@@ -1,2 +1,3 @@
 hello
+world
 bye
"""


def make_user(username: str | None = None, *, password: str = "password", **fields) -> User:
    n = next(_seq)
    username = username or f"user{n}"
    fields.setdefault("email", f"{username}@example.com")
    return User.objects.create_user(username=username, password=password, **fields)


def make_project(linkname: str | None = None, *, maintainers=(), **fields) -> Project:
    n = next(_seq)
    linkname = linkname or f"project{n}"
    fields.setdefault("name", linkname.capitalize())
    fields.setdefault("listid", f"{linkname}.lists.example.com")
    fields.setdefault("listemail", f"{linkname}@lists.example.com")
    project = Project.objects.create(linkname=linkname, **fields)
    project.maintainers.add(*maintainers)
    return project


def make_person(email: str | None = None, *, name: str = "", user: User | None = None) -> Person:
    email = email or f"person{next(_seq)}@example.com"
    return Person.objects.create(email=email, name=name or email.split("@")[0], user=user)


def default_state(slug: str = "new") -> State:
    return State.objects.get(slug=slug)


def make_series(project: Project, *, submitter: Person | None = None, **fields) -> Series:
    fields.setdefault("name", f"series {next(_seq)}")
    return Series.objects.create(project=project, submitter=submitter or make_person(), **fields)


def make_patch(project: Project | None = None, **fields) -> Patch:
    n = next(_seq)
    project = project or make_project()
    fields.setdefault("msgid", f"<patch{n}@example.com>")
    fields.setdefault("name", f"[PATCH] change number {n}")
    fields.setdefault("content", f"Commit message {n}\n\nSigned-off-by: Someone <s@example.com>")
    fields.setdefault("diff", SAMPLE_DIFF)
    fields.setdefault("headers", f"Message-Id: {fields['msgid']}\nSubject: {fields['name']}\n")
    fields.setdefault("date", timezone.now())
    fields.setdefault("state", default_state())
    if "submitter" not in fields:
        fields["submitter"] = make_person()
    return Patch.objects.create(project=project, **fields)


def make_cover(project: Project | None = None, **fields) -> Cover:
    n = next(_seq)
    project = project or make_project()
    fields.setdefault("msgid", f"<cover{n}@example.com>")
    fields.setdefault("name", f"a cover letter {n}")
    fields.setdefault("content", "This series does things.")
    if "submitter" not in fields:
        fields["submitter"] = make_person()
    return Cover.objects.create(project=project, **fields)


def make_patch_comment(patch: Patch, **fields) -> PatchComment:
    fields.setdefault("msgid", f"<comment{next(_seq)}@example.com>")
    fields.setdefault("content", "Looks good to me.")
    if "submitter" not in fields:
        fields["submitter"] = make_person()
    return PatchComment.objects.create(patch=patch, **fields)


def make_cover_comment(cover: Cover, **fields) -> CoverComment:
    fields.setdefault("msgid", f"<comment{next(_seq)}@example.com>")
    fields.setdefault("content", "Thanks for the series.")
    if "submitter" not in fields:
        fields["submitter"] = make_person()
    return CoverComment.objects.create(cover=cover, **fields)


def make_check(patch: Patch, user: User, **fields) -> Check:
    fields.setdefault("state", Check.SUCCESS)
    fields.setdefault("context", "ci")
    return Check.objects.create(patch=patch, user=user, **fields)


def make_bundle(owner: User, patches=(), **fields) -> Bundle:
    patches = list(patches)
    fields.setdefault("name", f"bundle{next(_seq)}")
    fields.setdefault("project", patches[0].project if patches else make_project())
    bundle = Bundle.objects.create(owner=owner, **fields)
    for order, patch in enumerate(patches, start=1):
        BundlePatch.objects.create(bundle=bundle, patch=patch, order=order)
    return bundle


def make_tag(name: str, abbrev: str, pattern: str | None = None) -> Tag:
    return Tag.objects.create(name=name, abbrev=abbrev, pattern=pattern or f"^{name}:")
