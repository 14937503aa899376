"""The dict shapes of the XML-RPC API (spyne types) and how model objects fill them."""

from __future__ import annotations

from spyne.model import Array, Boolean, ComplexModel, DateTime, Integer, Unicode

from apps.checks.models import Check
from apps.patches.mbox import patch_filename
from apps.patches.models import Patch
from apps.projects.models import Person, Project, State

# Dates go out as "YYYY-MM-DD HH:MM:SS" strings in UTC, as the legacy API sent them.
Date = DateTime(format="%Y-%m-%d %H:%M:%S")


class ProjectDict(ComplexModel):
    """A project: its id, short name (linkname) and full name."""

    __type_name__ = "project"
    _type_info = [("id", Integer), ("linkname", Unicode), ("name", Unicode)]


class PersonDict(ComplexModel):
    """Someone who sent mail; name falls back to the e-mail address, user is "" without an account."""

    __type_name__ = "person"
    _type_info = [("id", Integer), ("email", Unicode), ("name", Unicode), ("user", Unicode)]


class PatchDict(ComplexModel):
    """A patch; delegate_id is 0 and delegate, commit_ref and hash are "" when unset."""

    __type_name__ = "patch"
    _type_info = [
        ("id", Integer),
        ("date", Date),
        ("filename", Unicode),
        ("msgid", Unicode),
        ("name", Unicode),
        ("project", Unicode),
        ("project_id", Integer),
        ("state", Unicode),
        ("state_id", Integer),
        ("archived", Boolean),
        ("submitter", Unicode),
        ("submitter_id", Integer),
        ("delegate", Unicode),
        ("delegate_id", Integer),
        ("commit_ref", Unicode),
        ("hash", Unicode),
    ]


class StateDict(ComplexModel):
    """A patch state."""

    __type_name__ = "state"
    _type_info = [("id", Integer), ("name", Unicode)]


class CheckDict(ComplexModel):
    """A check: a CI result reported on a patch by a user."""

    __type_name__ = "check"
    _type_info = [
        ("id", Integer),
        ("date", Date),
        ("patch", Unicode),
        ("patch_id", Integer),
        ("user", Unicode),
        ("user_id", Integer),
        ("state", Unicode),
        ("target_url", Unicode),
        ("description", Unicode),
        ("context", Unicode),
    ]


class CombinedCheckDict(ComplexModel):
    """A patch's overall check state, with the latest check of each context and user."""

    __type_name__ = "combined_check"
    _type_info = [("state", Unicode), ("total", Integer), ("checks", Array(CheckDict))]


def patch_filename_stem(patch: Patch) -> str:
    """The patch's download file name without its extension (pwclient adds ".patch")."""
    return patch_filename(patch).removesuffix(".patch")


def project_dict(project: Project) -> dict:
    return {"id": project.pk, "linkname": project.linkname, "name": project.name}


def person_dict(person: Person) -> dict:
    return {
        "id": person.pk,
        "email": person.email,
        "name": person.name or person.email,
        "user": person.user.username if person.user else "",
    }


def state_dict(state: State) -> dict:
    return {"id": state.pk, "name": state.name}


def patch_dict(patch: Patch) -> dict:
    """Needs project, state, submitter and delegate loaded (see PATCH_RELATED)."""
    return {
        "id": patch.pk,
        "date": patch.date,
        "filename": patch_filename_stem(patch),
        "msgid": patch.msgid,
        "name": patch.name,
        "project": patch.project.name,
        "project_id": patch.project_id,
        "state": patch.state.name,
        "state_id": patch.state_id,
        "archived": patch.archived,
        "submitter": str(patch.submitter),
        "submitter_id": patch.submitter_id,
        "delegate": patch.delegate.username if patch.delegate else "",
        "delegate_id": patch.delegate_id or 0,
        "commit_ref": patch.commit_ref or "",
        "hash": patch.hash or "",
    }


PATCH_RELATED = ("project", "state", "submitter", "delegate")
CHECK_RELATED = ("patch", "user")


def check_dict(check: Check) -> dict:
    """Needs patch and user loaded (see CHECK_RELATED)."""
    return {
        "id": check.pk,
        "date": check.date,
        "patch": check.patch.name,
        "patch_id": check.patch_id,
        "user": check.user.username,
        "user_id": check.user_id,
        "state": check.state,
        "target_url": check.target_url or "",
        "description": check.description or "",
        "context": check.context,
    }
