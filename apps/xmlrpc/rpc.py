"""The legacy XML-RPC API's methods, as spyne services over the apps' selectors and services.

Argument types and defaults are checked by the protocol; a method's docstring
is its documentation on GET /xmlrpc/. Methods declared with
_udd={"auth": True} run only for a user authenticated by HTTP Basic.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from spyne import Service, rpc
from spyne.error import ResourceNotFoundError
from spyne.model import AnyDict, Array, Boolean, Integer, Mandatory, Unicode

from apps.checks.models import Check
from apps.checks.selectors import check_state_combined, checks_latest
from apps.checks.services import CHECK_STATES, check_check_can_create, check_create
from apps.patches.mbox import patch_to_mbox
from apps.patches.models import Patch
from apps.patches.services import patch_check_can_edit, patch_update
from apps.projects.models import Person, Project, State
from apps.projects.params import NUL_MESSAGE, nul_in, too_big
from apps.xmlrpc import selectors
from apps.xmlrpc.auth import acting_user
from apps.xmlrpc.protocol import AccessDenied, InvalidValue
from apps.xmlrpc.types import (
    CHECK_RELATED,
    CheckDict,
    CombinedCheckDict,
    PatchDict,
    PersonDict,
    ProjectDict,
    StateDict,
    check_dict,
    patch_dict,
    person_dict,
    project_dict,
    state_dict,
)

RPC_VERSION = [1, 3, 0]

Id = Mandatory(Integer)
SearchStr = Unicode(default="")
MaxCount = Integer(default=0)
Filter = AnyDict(default_factory=dict)


def _messages(exc: DjangoValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


class PatchworkService(Service):
    """Turns the domain's errors into faults with readable messages."""

    @classmethod
    def call_wrapper(cls, ctx, args=None):
        # Judged once for every method: what no column can hold never reaches a query.
        arguments = list(args if args is not None else ctx.in_object or ())
        if too_big(arguments):
            raise InvalidValue("A number is out of range (at most 2**63 - 1).")
        if nul_in(arguments):
            raise InvalidValue(NUL_MESSAGE)
        try:
            return super().call_wrapper(ctx, args)
        except DjangoValidationError as exc:
            raise InvalidValue(_messages(exc)) from exc
        except selectors.FilterValueError as exc:
            raise InvalidValue(str(exc)) from exc
        except PermissionDenied as exc:
            raise AccessDenied(str(exc) or "Permission denied") from exc


class VersionService(PatchworkService):
    @rpc(_returns=Array(Integer))
    def pw_rpc_version(ctx):
        """The version of this interface, [major, minor, patch]: [1, 3, 0]."""
        return RPC_VERSION


class ProjectService(PatchworkService):
    @rpc(SearchStr, MaxCount, _returns=Array(ProjectDict))
    def project_list(ctx, search_str, max_count):
        """Projects whose linkname contains search_str (case-insensitive).

        max_count: 0 for all, n for the first n, -n for the last n (in id order).
        """
        return [project_dict(p) for p in selectors.projects_search(search_str, max_count)]

    @rpc(Id, _returns=ProjectDict)
    def project_get(ctx, project_id):
        """The project with this id, or {}."""
        project = Project.objects.filter(pk=project_id).first()
        return project_dict(project) if project else None


class PersonService(PatchworkService):
    @rpc(SearchStr, MaxCount, _returns=Array(PersonDict))
    def person_list(ctx, search_str, max_count):
        """People whose name or e-mail address contains search_str (case-insensitive).

        max_count as for project_list.
        """
        return [person_dict(p) for p in selectors.people_search(search_str, max_count)]

    @rpc(Id, _returns=PersonDict)
    def person_get(ctx, person_id):
        """The person with this id, or {}."""
        person = Person.objects.select_related("user").filter(pk=person_id).first()
        return person_dict(person) if person else None


class PatchService(PatchworkService):
    @rpc(Filter, _returns=Array(PatchDict))
    def patch_list(ctx, filt):
        """Patches matching every filter in filt, in id order.

        Keys are FIELD or FIELD__LOOKUP. FIELD: id, name, project_id, submitter_id,
        delegate_id (a person id: patches delegated to that person's account),
        archived, state_id, date, commit_ref, hash, msgid, series (a series id).
        LOOKUP: iexact, contains, icontains, gt, gte, lt, in, startswith, istartswith,
        endswith, iendswith, range, year, month, day, isnull. Plus max_count
        (0 all, n the first n, -n the last n). An unknown field or lookup, or an id
        of nothing, gives []; a value the field cannot hold is a fault.
        """
        return [patch_dict(p) for p in selectors.patches_filtered(filt)]

    @rpc(Id, _returns=PatchDict)
    def patch_get(ctx, patch_id):
        """The patch with this id, or {}."""
        patch = selectors.patch_get(patch_id)
        return patch_dict(patch) if patch else None

    @rpc(Mandatory(Unicode), _returns=PatchDict)
    def patch_get_by_hash(ctx, hash):
        """The (first) patch whose diff has this hash, or {}."""
        patch = selectors.patch_get_by_hash(hash) if hash else None
        return patch_dict(patch) if patch else None

    @rpc(Mandatory(Unicode), Mandatory(Unicode), _returns=PatchDict)
    def patch_get_by_project_hash(ctx, project, hash):
        """The patch of the project (by linkname) whose diff has this hash, or {}."""
        patch = selectors.patch_get_by_hash(hash, project=project) if hash else None
        return patch_dict(patch) if patch else None

    @rpc(Id, _returns=Unicode)
    def patch_get_mbox(ctx, patch_id):
        """The patch as an mbox (ready for git am), or "" if there is no such patch."""
        patch = selectors.patch_get(patch_id)
        return patch_to_mbox(patch) if patch else ""

    @rpc(Id, _returns=Unicode)
    def patch_get_diff(ctx, patch_id):
        """The patch's diff, or "" if there is no such patch."""
        diff = Patch.objects.filter(pk=patch_id).values_list("diff", flat=True).first()
        return diff or ""

    @rpc(Id, Mandatory(AnyDict), _returns=Boolean, _udd={"auth": True})
    def patch_set(ctx, patch_id, params):
        """Change a patch: params may hold state (a state id), commit_ref, archived.

        Other keys are ignored. Allowed for the project's maintainers, the patch's
        delegate and its submitter. Returns true.
        """
        user = acting_user(ctx)
        patch = selectors.patch_get(patch_id)
        if patch is None:
            raise ResourceNotFoundError(patch_id, "No patch with id %r")
        if not patch_check_can_edit(user, patch):
            raise AccessDenied(f"You are not allowed to change patch {patch_id}")
        changes = {}
        if "state" in params:
            state_id = params["state"]
            if isinstance(state_id, bool) or not isinstance(state_id, int):
                raise InvalidValue("params.state must be a state id (an integer)")
            changes["state"] = State.objects.filter(pk=state_id).first()
            if changes["state"] is None:
                raise InvalidValue(f"No state with id {state_id}")
        if "commit_ref" in params:
            commit_ref = params["commit_ref"]
            if commit_ref is not None and not isinstance(commit_ref, str):
                raise InvalidValue("params.commit_ref must be a string")
            changes["commit_ref"] = commit_ref or None
        if "archived" in params:
            if not isinstance(params["archived"], bool):
                raise InvalidValue("params.archived must be a boolean")
            changes["archived"] = params["archived"]
        patch_update(patch=patch, actor=user, **changes)
        return True


class StateService(PatchworkService):
    @rpc(SearchStr, MaxCount, _returns=Array(StateDict))
    def state_list(ctx, search_str, max_count):
        """States whose name contains search_str (case-insensitive); max_count as for project_list."""
        return [state_dict(s) for s in selectors.states_search(search_str, max_count)]

    @rpc(Id, _returns=StateDict)
    def state_get(ctx, state_id):
        """The state with this id, or {}."""
        state = State.objects.filter(pk=state_id).first()
        return state_dict(state) if state else None


class CheckService(PatchworkService):
    @rpc(Filter, _returns=Array(CheckDict))
    def check_list(ctx, filt):
        """Checks matching every filter in filt, in id order.

        Keys are FIELD or FIELD__LOOKUP (lookups as for patch_list). FIELD: id,
        user (a username, or a user id), project_id, patch_id. Plus max_count.
        """
        return [check_dict(c) for c in selectors.checks_filtered(filt)]

    @rpc(Id, _returns=CheckDict)
    def check_get(ctx, check_id):
        """The check with this id, or {}."""
        check = selectors.check_get(check_id)
        return check_dict(check) if check else None

    @rpc(
        Id,
        Unicode,
        Unicode,
        Unicode(default=""),
        Unicode(default=""),
        _returns=Boolean,
        _udd={"auth": True},
    )
    def check_create(ctx, patch_id, context, state, target_url, description):
        """Report a check on a patch; state is pending, success, warning or fail.

        Allowed for the project's maintainers. Returns true.
        """
        user = acting_user(ctx)
        patch = Patch.objects.select_related("project").filter(pk=patch_id).first()
        if patch is None:
            raise ResourceNotFoundError(patch_id, "No patch with id %r")
        if not check_check_can_create(user, patch):
            raise AccessDenied(f"You are not allowed to report checks on patch {patch_id}")
        if state not in CHECK_STATES:
            raise InvalidValue(f"state must be one of {', '.join(CHECK_STATES)}, not {state!r}")
        check_create(
            patch=patch,
            user=user,
            state=state,
            context=context or "default",
            target_url=target_url or None,
            description=description or None,
        )
        return True

    @rpc(Id, _returns=CombinedCheckDict)
    def patch_check_get(ctx, patch_id):
        """The patch's combined check state: state, total and the latest check per context and user.

        {} if there is no such patch.
        """
        if not Patch.objects.filter(pk=patch_id).exists():
            return None
        latest = checks_latest(
            Check.objects.filter(patch_id=patch_id).select_related(*CHECK_RELATED)
        )
        return {
            "state": check_state_combined(c.state for c in latest),
            "total": len(latest),
            "checks": [check_dict(c) for c in latest],
        }


SERVICES = [
    VersionService,
    ProjectService,
    PersonService,
    PatchService,
    StateService,
    CheckService,
]
