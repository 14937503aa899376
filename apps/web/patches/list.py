"""The patch list of a project: filters, sorting, pagination and bulk actions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.forms import MAX_ITEMS_PER_PAGE
from apps.accounts.models import User
from apps.events.services import events_batched
from apps.live.pages import (
    NEW_PATCH_CATEGORIES,
    ROW_CATEGORIES,
    LivePage,
    PageKind,
)
from apps.live.publish import PATCH_UPDATED, project_group
from apps.live.render import Viewer, row_op, shared_read, viewer_request
from apps.patches.models import Bundle, Patch
from apps.patches.services import (
    bundle_add_patches,
    bundle_check_can_edit,
    bundle_create,
    patch_check_can_edit,
    patch_update,
)
from apps.projects.models import Person, Project, State, Tag
from apps.projects.params import MAX_INT, parse_id, parse_int
from apps.projects.selectors import user_is_maintainer
from apps.web.http import HtmxHttpRequest
from apps.web.patches.fast_rows import patch_rows_light, row_html
from apps.web.patches.filters import (
    ARCHIVE_CHOICES,
    NOBODY,
    SORT_FIELDS,
    apply_filters,
    parse_filters,
)
from apps.web.patches.rows import (
    RowOptions,
    items_per_page,
    patch_rows_decorate,
    patch_rows_queryset,
    render_patch_rows,
    row_options,
    row_tag_columns,
)

# Past this many matches the list says "more than N" instead of counting every row.
COUNT_LIMIT = 10_000

# Single keys that set a state in keyboard triage, by state slug (first free letter wins).
STATE_KEYS = {
    "new": "n",
    "under-review": "u",
    "accepted": "a",
    "rejected": "r",
    "changes-requested": "c",
    "awaiting-upstream": "w",
    "superseded": "s",
    "deferred": "d",
    "not-applicable": "t",
    "rfc": "f",
}


@dataclass
class Page:
    number: int
    per_page: int
    items: list
    has_next: bool
    total: int  # capped at COUNT_LIMIT + 1
    exact: bool
    # What was wrong with the page asked for, and which page is shown instead.
    notes: list[str] = field(default_factory=list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def num_pages(self) -> int:
        return max(1, -(-min(self.total, COUNT_LIMIT) // self.per_page))

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.items)

    def window(self) -> list[int | None]:
        """Page numbers to link, with None for a gap."""
        last = self.num_pages
        wanted = {1, last, *range(self.number - 2, self.number + 3)}
        pages = sorted(n for n in wanted if 1 <= n <= max(last, self.number))
        out: list[int | None] = []
        for n in pages:
            if out and n - (out[-1] or 0) > 1:
                out.append(None)
            out.append(n)
        return out


def paging_params(
    query: QueryDict, default_per_page: int, noun: str = "patches"
) -> tuple[int, int, list[str]]:
    """The page number and page size a list URL asks for, the nearest valid ones where it
    asks for something impossible, and a note saying so for each (of the list's `noun`)."""
    notes = []
    per_page = default_per_page
    raw = query.get("per_page", "").strip()
    if raw:
        size = parse_id(raw)
        if size is not None and size <= MAX_ITEMS_PER_PAGE:
            per_page = size
        else:
            notes.append(
                f"'{raw}' is not a number of {noun} a page can show (1 to "
                f"{MAX_ITEMS_PER_PAGE}): showing {per_page} a page."
            )
    number = 1
    raw = query.get("page", "").strip()
    if raw:
        asked = parse_int(raw)
        if asked is None:
            notes.append(f"'{raw}' is not a page number: showing page 1.")
        elif asked < 1:
            notes.append(f"There is no page {asked}: showing page 1.")
        else:
            number = asked
    return number, per_page, notes


def paginate(qs: QuerySet[Patch], number: int, per_page: int) -> Page:
    """One page of patch rows plus a count that stops at COUNT_LIMIT (no full-table COUNT);
    a page past the end shows the last page, with a note.

    The page's ids come from the filtered, ordered patch table alone; the rows' joins
    are fetched for those ids only, so a filter the planner misjudges (a name search)
    can't turn the joins into a scan of every patch.
    """
    notes = []
    offset = (number - 1) * per_page
    # No database offset reaches past bigint: such a page is past the end like any other.
    ids = (
        list(qs.values_list("pk", flat=True)[offset : offset + per_page + 1])
        if offset <= MAX_INT
        else []
    )
    total = None
    if not ids and number > 1:
        total = qs.order_by().values("pk")[: COUNT_LIMIT + 1].count()
        last = max(1, -(-min(total, COUNT_LIMIT) // per_page))
        notes.append(f"There is no page {number}; the last is {last}: showing page {last}.")
        number, offset = last, (last - 1) * per_page
        ids = list(qs.values_list("pk", flat=True)[offset : offset + per_page + 1])
    has_next = len(ids) > per_page
    ids = ids[:per_page]
    rows = patch_rows_light(ids)
    if total is None:
        if number == 1 and not has_next:
            total = len(rows)
        else:
            total = qs.order_by().values("pk")[: COUNT_LIMIT + 1].count()
    return Page(number, per_page, rows, has_next, total, total <= COUNT_LIMIT, notes)


def list_context(
    request: HttpRequest,
    project: Project | None,
    qs: QuerySet[Patch],
    *,
    use_tags: bool = True,
    querystring: Callable[..., str] = lambda **kw: urlencode(kw),
    states: list[State] | None = None,
) -> dict:
    """What the patch table, pagination, bulk bar and keyboard map need for one page of `qs`."""
    options = row_options(request, use_tags=use_tags)
    number, per_page, notes = paging_params(request.GET, items_per_page(request.user))
    page = paginate(qs, number, per_page)
    page.notes[:0] = notes
    if per_page != items_per_page(request.user):  # the links keep the page size asked for
        plain_querystring = querystring

        def querystring(**kw):
            return plain_querystring(**kw) + f"&per_page={per_page}"

    patch_rows_decorate(page.items, options)
    tz = timezone.get_current_timezone()
    for patch in page.items:
        patch.row_html = row_html(patch, options, tz=tz)
    links = [
        {"number": n, "url": "?" + querystring(page=n) if n else "", "current": n == page.number}
        for n in page.window()
    ]
    page_urls = {
        "previous": "?" + querystring(page=page.number - 1) if page.has_previous else "",
        "next": "?" + querystring(page=page.number + 1) if page.has_next else "",
    }
    user = request.user
    context = {
        "page": page,
        "page_links": links,
        "page_urls": page_urls,
        "opts": options,
        "is_maintainer": False,
        "bundles": [],
        "states": states,
        "state_keys": [],
        "maintainers": [],
        "nobody": NOBODY,
        # The pages of this table include the shortcuts dialog: the footer offers it.
        "keyboard_shortcuts": True,
    }
    if project is not None:
        context["bulk_url"] = reverse("patch-list-bulk", args=[project.linkname])
    if user.is_authenticated:
        context["bundles"] = list(Bundle.objects.filter(owner=user).only("id", "name"))
        if project is not None and user_is_maintainer(user, project):
            context["is_maintainer"] = True
            if states is None:
                context["states"] = states = list(State.objects.order_by("ordering"))
            context["state_keys"] = _state_keys(states)
            context["maintainers"] = list(
                project.maintainers.order_by("username").only("id", "username")
            )
    return context


@require_GET
def patch_list(request: HtmxHttpRequest, linkname: str) -> HttpResponse:
    project = get_object_or_404(Project, linkname=linkname)
    states = list(State.objects.order_by("ordering"))
    filters = parse_filters(request.GET, states)
    qs = apply_filters(Patch.objects.filter(project=project), filters)
    context = list_context(
        request,
        project,
        qs,
        use_tags=project.use_tags,
        querystring=filters.querystring,
        states=states,
    )
    context.update(
        {
            "project": project,
            "filters": filters,
            "archive_choices": ARCHIVE_CHOICES,
            "sort": {
                col: {
                    "url": "?" + filters.sort_querystring(col),
                    "active": filters.order_field == col,
                    "descending": filters.order_descending,
                }
                for col in SORT_FIELDS
            },
        }
    )
    if not context["maintainers"]:
        context["maintainers"] = list(
            project.maintainers.order_by("username").only("id", "username")
        )
    template = "patches/list.html"
    if request.htmx and request.htmx.target == "patch-list-results":
        template = "patches/_list_results.html"
    return render(request, template, context)


def _state_keys(states: list[State]) -> list[dict]:
    keys = []
    used: set[str] = set()
    for state in states:
        key = STATE_KEYS.get(state.slug)
        if key and key not in used:
            used.add(key)
            keys.append({"key": key, "state": state})
    return keys


@require_GET
def person_autocomplete(request: HttpRequest) -> HttpResponse:
    """Datalist options for the submitter filter: people whose name or address matches.

    Signed-in users only: it would otherwise be a public search of every address
    that ever mailed the lists. Anonymous visitors get no options (an empty list,
    so the page stays quiet).
    """
    q = request.GET.get("submitter", request.GET.get("q", "")).strip()
    people = []
    if len(q) >= 2 and request.user.is_authenticated:
        people = list(
            Person.objects.filter(Q(name__icontains=q) | Q(email__icontains=q)).order_by(
                "name", "email"
            )[:20]
        )
    return render(request, "patches/_person_options.html", {"people": people})


@require_GET
def delegate_autocomplete(request: HttpRequest) -> HttpResponse:
    """Datalist options for the delegate filter: maintainers whose name matches.

    Only maintainers can be delegates, and other accounts are nobody else's business.
    """
    q = request.GET.get("delegate", request.GET.get("q", "")).strip()
    users = []
    if len(q) >= 1:
        users = list(
            User.objects.filter(maintained_projects__isnull=False)
            .filter(
                Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q)
            )
            .distinct()
            .order_by("username")[:20]
        )
    return render(request, "patches/_user_options.html", {"users": users})


# --- bulk actions -------------------------------------------------------------


class BulkError(Exception):
    pass


def _selected_patches(request: HttpRequest, project: Project | None) -> list[Patch]:
    raw = request.POST.getlist("patch_id")
    parsed = list(dict.fromkeys(parse_id(v) for v in raw))  # page order: bundles keep it
    ids = [i for i in parsed if i is not None]
    if len(ids) != len(parsed):
        raise BulkError("The selection is not a list of patch ids.")
    if not ids:
        raise BulkError("Select at least one patch first.")
    qs = Patch.objects.filter(pk__in=ids).select_related("project", "submitter", "state")
    if project is not None:
        qs = qs.filter(project=project)
    by_id = {p.pk: p for p in qs}
    patches = [by_id[i] for i in ids if i in by_id]
    if len(patches) != len(ids):
        raise BulkError("Some selected patches do not exist in this project.")
    return patches


def _bulk_update(request: HttpRequest, project: Project | None, patches: list[Patch]) -> str:
    """Validate every change and every permission first, then change all patches or none."""
    user = request.user
    assert user.is_authenticated  # bulk_action sends anonymous visitors to log in
    changes: dict = {}
    state_value = request.POST.get("state", "").strip()
    if state_value:
        state = State.objects.filter(slug=state_value).first()
        if state is None:
            raise BulkError(f"Unknown state '{state_value}'.")
        changes["state"] = state
    delegate_value = request.POST.get("delegate", "").strip()
    if delegate_value:
        if delegate_value == NOBODY:
            changes["delegate"] = None
        else:
            delegate = User.objects.filter(username=delegate_value).first()
            if delegate is None:
                raise BulkError(f"Unknown user '{delegate_value}'.")
            changes["delegate"] = delegate
    archived_value = request.POST.get("archived", "").strip()
    if archived_value:
        if archived_value not in ("yes", "no"):
            raise BulkError("Archived must be yes or no.")
        changes["archived"] = archived_value == "yes"
    if not changes:
        raise BulkError("Choose a state, a delegate or an archive action to apply.")
    projects = {p.project_id: p.project for p in patches}
    maintained = {pid: user_is_maintainer(user, proj) for pid, proj in projects.items()}
    refused = [
        p for p in patches if not maintained[p.project_id] and not patch_check_can_edit(user, p)
    ]
    if refused:
        names = ", ".join(str(p.pk) for p in refused[:10])
        raise BulkError(f"You may not change patch(es) {names}; nothing was changed.")
    try:
        # Events written together and heard together: open pages get a few updates for
        # the whole selection, not one a patch.
        with transaction.atomic(), events_batched():
            for patch in patches:
                patch_update(patch=patch, actor=user, **changes)
    except ValidationError as exc:
        detail = "; ".join(m for msgs in exc.message_dict.values() for m in msgs)
        raise BulkError(f"{detail}. Nothing was changed.") from exc
    return f"Updated {len(patches)} patch{'es' if len(patches) != 1 else ''}."


def _bulk_bundle(request: HttpRequest, patches: list[Patch]) -> str:
    user = request.user
    assert user.is_authenticated  # bulk_action sends anonymous visitors to log in
    name = request.POST.get("bundle_name", "").strip()
    bundle_id = request.POST.get("bundle", "").strip()
    if name:
        try:
            bundle = bundle_create(owner=user, name=name, patches=patches)
        except ValidationError as exc:
            detail = "; ".join(m for msgs in exc.message_dict.values() for m in msgs)
            raise BulkError(detail) from exc
        return f"Created bundle '{bundle.name}' with {len(patches)} patch(es)."
    bundle_pk = parse_id(bundle_id)
    if bundle_pk is None:
        raise BulkError("Choose a bundle, or type a name for a new one.")
    existing = Bundle.objects.filter(pk=bundle_pk).first()
    if existing is None or not bundle_check_can_edit(user, existing):
        raise BulkError("No such bundle of yours.")
    added = bundle_add_patches(bundle=existing, patches=patches)
    skipped = len(patches) - added
    message = f"Added {added} patch(es) to bundle '{existing.name}'."
    if skipped:
        message += f" {skipped} already there."
    return message


def bulk_action(request: HtmxHttpRequest, project: Project | None) -> HttpResponse:
    """Apply a bulk action; htmx gets the message plus the changed rows, others a redirect."""
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = ""
    if not next_url:
        next_url = reverse("patch-list", args=[project.linkname]) if project else "/"
    if not request.user.is_authenticated:
        if request.htmx:
            return _bulk_response(request, project, "Log in to change patches.", [], status=403)
        return redirect_to_login(next_url)
    action = request.POST.get("action", "update")
    patches: list[Patch] = []
    try:
        patches = _selected_patches(request, project)
        if action == "update":
            message = _bulk_update(request, project, patches)
        elif action == "bundle":
            message = _bulk_bundle(request, patches)
            patches = []  # rows look the same after bundling
        else:
            raise BulkError(f"Unknown action '{action}'.")
    except BulkError as exc:
        if request.htmx:
            return _bulk_response(request, project, str(exc), [], status=400)
        messages.error(request, str(exc))
        return HttpResponseRedirect(next_url)
    if request.htmx:
        return _bulk_response(request, project, message, [p.pk for p in patches])
    messages.success(request, message)
    return HttpResponseRedirect(next_url)


def _bulk_response(
    request: HttpRequest, project: Project | None, message: str, changed: list[int], status=200
) -> HttpResponse:
    rows = ""
    if changed:
        # Rows stay selected for a follow-up action, unless one row was acted on by keyboard.
        keep = request.POST.get("keep_selection", "1") == "1"
        rows = render_patch_rows(
            request,
            changed,
            selected=changed if keep else (),
            oob=True,
            use_tags=project.use_tags if project else True,
        )
    response = render(
        request,
        "patches/_bulk_status.html",
        {"message": message, "error": status != 200, "rows": rows},
        status=status,
    )
    if status != 200:
        # htmx swaps only 2xx by default: show errors in the status area too.
        response["HX-Retarget"] = "#bulk-status"
        response["HX-Reswap"] = "innerHTML"
    return response


@require_POST
def patch_list_bulk(request: HtmxHttpRequest, linkname: str) -> HttpResponse:
    project = get_object_or_404(Project, linkname=linkname)
    return bulk_action(request, project)


# --- live: the rows events change, rendered as the page renders them ---------------


def live_list_open(object_id: int, query: QueryDict, user) -> LivePage | None:
    """A project's patch list, with the filters of its URL (parsed as patch_list does)."""
    project = Project.objects.filter(pk=object_id).only("id", "use_tags").first()
    if project is None:
        return None
    return LivePage(
        filters=parse_filters(query, list(State.objects.order_by("ordering"))),
        use_tags=project.use_tags,
        kind="list",
        project_id=project.pk,
        object_id=project.pk,
        groups=[project_group(project.pk)],
        regions=["patch-list-results"],
        query=query,
    )


def live_list_ops(
    page: LivePage, viewer: Viewer, refs: list[dict], refresh_patches: list[int] | None = None
) -> list[dict]:
    """Rows to insert or swap on a patch list for these events (and rows to refresh)."""
    # Per patch: "new" (a row to add), "late" (a row to add only where it cannot be
    # mistaken for news: see live/catchup.LATE_COMMIT_SECONDS), "" (a row to update).
    new: dict[int, str] = {}
    for ref in refs:
        if ref.get("patch_id"):
            pid = ref["patch_id"]
            if ref["category"] not in NEW_PATCH_CATEGORIES:
                new.setdefault(pid, "")
            elif new.get(pid) != "new":
                new[pid] = "late" if ref.get("late") else "new"
    for pid in refresh_patches or ():
        new.setdefault(pid, "")
    if not new:
        return []
    # The same for every kind of viewer: read once for a batch's renderings.
    rows = shared_read(("list-rows", page.render_key, tuple(new)), lambda: _live_rows(page, new))
    request = viewer_request(viewer, f"/live/list/{page.project_id}/")
    html = _live_rows_html(request, rows, page)
    matching = rows.matching
    in_view = page.filters.order == "-date" and page.query.get("page", "1") in ("", "1")
    ops = []
    for pid, is_new in new.items():
        if pid not in html:
            continue
        op = row_op(f"patch-row-{pid}", "patch-list-body", is_new, pid in matching, in_view)
        if op is not None:
            ops.append({**op, "html": html[pid]})
    return ops


def live_list_viewer_kind(page: LivePage, user) -> tuple:
    """What shapes a list's rows for a viewer: a checkbox for anyone signed in, the id
    column for those who asked for it (rows carry no form, token or name of theirs)."""
    return ("list", bool(user.is_authenticated), bool(getattr(user, "show_ids", False)))


@dataclass
class _LiveRows:
    """A batch's rows as every viewer sees them, and which fit the page's filters."""

    matching: set[int]
    patches: list[Patch]  # decorated (tag counts, checks, URLs)
    tags: list[Tag]


def _live_rows(page: LivePage, patch_ids: Iterable[int]) -> _LiveRows:
    in_project = Patch.objects.filter(project_id=page.project_id, pk__in=list(patch_ids))
    matching = set(apply_filters(in_project, page.filters).order_by().values_list("pk", flat=True))
    patches = list(patch_rows_queryset(in_project))
    tags = row_tag_columns(use_tags=page.use_tags) if patches else []
    # Decorating reads only the tag columns of the options: the same for every viewer.
    patch_rows_decorate(patches, RowOptions(tag_columns=tags, show_ids=False, selectable=False))
    return _LiveRows(matching=matching, patches=patches, tags=tags)


def _live_rows_html(request: HttpRequest, rows: _LiveRows, page: LivePage) -> dict[int, str]:
    """The rows as the list page builds them for this viewer (fast_rows, the same bytes as
    the partial patch_rows_html renders: tests/web/test_patch_rows.py), by patch id."""
    if not rows.patches:
        return {}
    options = row_options(request, use_tags=page.use_tags, tags=rows.tags)
    tz = timezone.get_current_timezone()
    return {patch.pk: row_html(patch, options, changed=True, tz=tz) for patch in rows.patches}


LIVE_LIST = PageKind(
    name="list",
    region="patch-list-results",
    open=live_list_open,
    ops=live_list_ops,
    events=lambda page: Q(project_id=page.project_id, category__in=ROW_CATEGORIES),
    wants=lambda page, message: (
        message.get("category") in ROW_CATEGORIES or message.get("category") == PATCH_UPDATED
    ),
    # What a list's websocket needs of its URL: the filters (search), sort and page.
    params=("state", "submitter", "delegate", "q", "archive", "series", "order", "page"),
    viewer_kind=live_list_viewer_kind,
)
