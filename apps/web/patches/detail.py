"""Patch and cover letter pages, the maintainer form, comment permalinks and 'addressed'."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.models import User
from apps.checks.sql import checks_for_page, checks_read
from apps.patches.models import Bundle, Cover, CoverComment, Patch, PatchComment
from apps.patches.services import (
    UNSET,
    comment_check_can_edit,
    comment_set_addressed,
    patch_check_can_edit,
    patch_update,
)
from apps.patches.sql import (
    comments_read,
    fast_path,
    patch_comments_for_page,
    patch_for_page,
    patch_tags_for_page,
    read_together,
    series_patches_for_nav,
    series_patches_read,
)
from apps.projects.models import State
from apps.projects.selectors import user_is_maintainer
from apps.series.models import Series
from apps.series.sql import series_for_patch_page, series_read
from apps.web.http import HtmxHttpRequest
from apps.web.patches.diff import render_diff
from apps.web.patches.rows import patch_url_builder


def _bracketed(msgid: str) -> str:
    return f"<{msgid}>"


def patch_url(patch: Patch) -> str:
    return reverse("patch-detail", args=[patch.project.linkname, patch.url_msgid])


def cover_url(cover: Cover) -> str:
    return reverse("cover-detail", args=[cover.project.linkname, cover.url_msgid])


# --- the maintainer form -------------------------------------------------------


class PatchTriageForm(forms.Form):
    state = forms.ModelChoiceField(queryset=State.objects.none(), to_field_name="slug")
    delegate = forms.ModelChoiceField(
        queryset=User.objects.none(),
        to_field_name="username",
        required=False,
        empty_label="Nobody",
    )
    archived = forms.BooleanField(required=False)
    commit_ref = forms.CharField(max_length=255, required=False, label="Commit ref")

    def __init__(self, *args, patch: Patch, states: list[State], maintainers, **kwargs):
        kwargs["initial"] = {
            "state": patch.state.slug,
            "delegate": patch.delegate.username if patch.delegate is not None else None,
            "archived": patch.archived,
            "commit_ref": patch.commit_ref or "",
        }
        super().__init__(*args, **kwargs)
        state, delegate = self.fields["state"], self.fields["delegate"]
        assert isinstance(state, forms.ModelChoiceField)  # the fields declared above
        assert isinstance(delegate, forms.ModelChoiceField)
        state.queryset = State.objects.filter(pk__in=[s.pk for s in states])
        state.choices = [(s.slug, s.name) for s in states]
        delegate.queryset = maintainers
        delegate.choices = [("", "Nobody")] + [(u.username, u.username) for u in maintainers]


def _delegate_choices(patch: Patch):
    """The project's maintainers, plus the current delegate so an unchanged form keeps them."""
    return (
        User.objects.filter(Q(maintained_projects=patch.project_id) | Q(pk=patch.delegate_id))
        .distinct()
        .order_by("username")
    )


def _triage_context(request: HttpRequest, patch: Patch, form=None, message="") -> dict:
    states = list(State.objects.order_by("ordering"))
    maintainers = _delegate_choices(patch)
    if form is None:
        form = PatchTriageForm(patch=patch, states=states, maintainers=maintainers)
    return {"patch": patch, "form": form, "message": message}


def _patch_triage_post(request: HtmxHttpRequest, patch: Patch) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(patch_url(patch))
    if not patch_check_can_edit(request.user, patch):
        return HttpResponseForbidden("You may not change this patch.")
    states = list(State.objects.order_by("ordering"))
    maintainers = _delegate_choices(patch)
    form = PatchTriageForm(request.POST, patch=patch, states=states, maintainers=maintainers)
    status = 200
    message = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            patch = patch_update(
                patch=patch,
                actor=request.user,
                state=data["state"],
                delegate=UNSET
                if (data["delegate"].pk if data["delegate"] else None) == patch.delegate_id
                else data["delegate"],
                archived=data["archived"],
                commit_ref=data["commit_ref"] or None,
            )
            message = "Patch updated."
        except ValidationError as exc:
            for field_name, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field_name if field_name in form.fields else None, error)
            status = 400
    else:
        status = 400
    if not request.htmx:
        if status == 200:
            messages.success(request, message)
            return HttpResponseRedirect(patch_url(patch))
        return _render_patch(request, patch, triage_form=form, status=status)
    patch = _load_patch(patch.project.linkname, patch.url_msgid)
    context = _triage_context(request, patch, form if status != 200 else None, message)
    context.update({"can_edit": True, "project": patch.project, "oob": status == 200})
    context.update(facts_context(patch))
    return render(request, "patches/_triage.html", context, status=status)


# --- pages -------------------------------------------------------------------


def _load_patch(linkname: str, msgid: str) -> Patch:
    """The patch with its project, people and state (its series: series_nav_context)."""
    patch = patch_for_page(linkname, _bracketed(msgid))
    if patch is None:
        raise Http404("No such patch.")
    return patch


def _comment_editable(user, is_maintainer: bool, comment, submission) -> bool:
    """The rule of comment_check_can_edit, without a query per comment."""
    if not user.is_authenticated:
        return False
    if is_maintainer:
        return True
    return user.pk in (comment.submitter.user_id, submission.submitter.user_id)


def patch_detail(request: HtmxHttpRequest, linkname: str, msgid: str) -> HttpResponse:
    patch = _load_patch(linkname, msgid)
    if request.method == "POST":
        return _patch_triage_post(request, patch)
    return _render_patch(request, patch)


def facts_context(patch: Patch) -> dict:
    """What the facts box shows besides the patch: its tag counts (for the page and live)."""
    tags = getattr(patch, "page_tags", None)  # read with the patch by patch_for_page
    if tags is None and patch.project.use_tags:
        tags = patch_tags_for_page(patch.pk)
    return {"tag_counts": tags or []}


SeriesReads = tuple[list[Patch], Series | None]


def series_nav_context(patch: Patch, loaded: SeriesReads | None = None) -> dict:
    """What the series box of a patch page shows (for the page and its live updates), from
    the series' patches and the series if `loaded` (_page_reads), else read here."""
    context: dict = {
        "series_patches": [],
        "previous_patch": None,
        "next_patch": None,
        "dependencies": [],
        "newer_revision": None,
    }
    if not patch.series_id:
        return context
    if loaded is None:
        loaded = (
            series_patches_for_nav(patch.series_id, patch.project),
            series_for_patch_page(patch.series_id),
        )
    series_patches, series = loaded
    url_of = patch_url_builder()  # reverse() once, not once a patch of the series
    for i, p in enumerate(series_patches, start=1):
        # What each item shows, worked out here: filters and comparisons in the template's
        # loop cost about 60 Python calls an item.
        p.page_url = url_of(p)
        p.nav_number = p.number or i
        p.nav_name = p.name or "(no subject)"
        p.nav_current = p.pk == patch.pk
    index = next((i for i, p in enumerate(series_patches) if p.pk == patch.pk), None)
    if index is not None:
        context["previous_patch"] = series_patches[index - 1] if index > 0 else None
        if index + 1 < len(series_patches):
            context["next_patch"] = series_patches[index + 1]
    context["series_patches"] = series_patches
    if series is not None:
        patch.series = series  # with its cover and previous revision, for the template
        context["newer_revision"] = series.newer_revision
        if series.has_dependencies:
            context["dependencies"] = list(series.dependencies.order_by("id"))
    return context


def patch_checks(patch: Patch) -> list:
    """The checks box: the latest check per context and user (for the page and live)."""
    return checks_for_page(patch.pk)


def patch_related(patch: Patch) -> list[Patch]:
    """The other patches of the patch's relation (for the page and live)."""
    if not patch.related_id:
        return []
    return list(
        Patch.objects.filter(related_id=patch.related_id)
        .exclude(pk=patch.pk)
        .select_related("project", "state")
        .only("id", "msgid", "name", "project__linkname", "project__name", "state__name")
        .order_by("date", "id")
    )


def _page_reads(patch: Patch) -> tuple[list[PatchComment], list, SeriesReads | None]:
    """A patch page's comments, checks and series box reads: on PostgreSQL their four
    statements go in one round trip (apps.patches.sql.read_together)."""
    if not fast_path():
        series = None
        if patch.series_id:
            series = (
                series_patches_for_nav(patch.series_id, patch.project),
                series_for_patch_page(patch.series_id),
            )
        return patch_comments_for_page(patch.pk), patch_checks(patch), series
    reads = [comments_read(patch.pk), checks_read(patch.pk)]
    if patch.series_id:
        reads += [series_patches_read(patch.series_id, patch.project), series_read(patch.series_id)]
    comments, checks, *series_reads = read_together(reads)
    return comments, checks, (series_reads[0], series_reads[1]) if series_reads else None


def _render_patch(request: HttpRequest, patch: Patch, triage_form=None, status=200):
    user = request.user
    project = patch.project
    is_maintainer = user_is_maintainer(user, project)
    can_edit = is_maintainer or patch_check_can_edit(user, patch)
    comments, checks, series_reads = _page_reads(patch)
    for comment in comments:
        comment.can_edit = _comment_editable(user, is_maintainer, comment, patch)
    related = patch_related(patch)
    diff_files, diff_truncated = render_diff(patch.diff)
    context = {
        "project": project,
        "patch": patch,
        "submission": patch,
        "comments": comments,
        "checks": checks,
        **facts_context(patch),
        **series_nav_context(patch, series_reads),
        "related": related,
        "diff_files": diff_files,
        "diff_truncated": diff_truncated,
        "is_maintainer": is_maintainer,
        "can_edit": can_edit,
        "bundles": list(Bundle.objects.filter(owner=user).only("id", "name"))
        if user.is_authenticated
        else [],
        "patch_url": patch_url(patch),
        "live_cursor": patch.live_cursor or 0,
        "bulk_url": reverse("patch-list-bulk", args=[project.linkname]),
    }
    if can_edit:
        triage = _triage_context(request, patch, triage_form)
        context["form"] = triage["form"]
    return render(request, "patches/detail.html", context, status=status)


def cover_detail(request: HttpRequest, linkname: str, msgid: str) -> HttpResponse:
    cover = get_object_or_404(
        Cover.objects.select_related("project", "submitter"),
        project__linkname=linkname,
        msgid=_bracketed(msgid),
    )
    user = request.user
    is_maintainer = user_is_maintainer(user, cover.project)
    comments = list(cover.comments.select_related("submitter").order_by("date", "id"))
    for comment in comments:
        comment.can_edit = _comment_editable(user, is_maintainer, comment, cover)
    series = getattr(cover, "series", None) if _has_series(cover) else None
    series_patches = []
    if series is not None:
        series_patches = list(
            Patch.objects.filter(series=series)
            .select_related("project", "state")
            .only("id", "msgid", "name", "number", "project__linkname", "state__name")
            .order_by("number", "date", "id")
        )
    context = {
        "project": cover.project,
        "cover": cover,
        "submission": cover,
        "comments": comments,
        "series": series,
        "series_patches": series_patches,
    }
    return render(request, "patches/cover.html", context)


def _has_series(cover: Cover) -> bool:
    try:
        return cover.series is not None
    except Cover.series.RelatedObjectDoesNotExist:
        return False


# --- short URLs and comment permalinks ------------------------------------------


def patch_by_id(request: HttpRequest, patch_id: int) -> HttpResponse:
    patch = get_object_or_404(
        Patch.objects.select_related("project").only("msgid", "project__linkname"), pk=patch_id
    )
    return redirect(patch_url(patch), permanent=True)


def cover_by_id(request: HttpRequest, cover_id: int) -> HttpResponse:
    cover = get_object_or_404(
        Cover.objects.select_related("project").only("msgid", "project__linkname"), pk=cover_id
    )
    return redirect(cover_url(cover), permanent=True)


def comment_redirect(request: HttpRequest, comment_id: int) -> HttpResponse:
    """A comment's permalink: its place on its patch's page (or, failing that, cover's)."""
    comment = PatchComment.objects.select_related("patch__project").filter(pk=comment_id).first()
    if comment is not None:
        return redirect(f"{patch_url(comment.patch)}#comment-{comment.pk}")
    return cover_comment_redirect(request, comment_id)


def cover_comment_redirect(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = get_object_or_404(
        CoverComment.objects.select_related("cover__project"), pk=comment_id
    )
    return redirect(f"{cover_url(comment.cover)}#comment-{comment.pk}")


def _set_addressed(request: HtmxHttpRequest, comment, page_url: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(page_url)
    if not comment_check_can_edit(request.user, comment):
        return HttpResponseForbidden("You may not change this comment.")
    value = request.POST.get("addressed", "")
    choices = {"true": True, "false": False, "": None}
    if value not in choices:
        return HttpResponse("addressed must be true, false or empty.", status=400)
    comment_set_addressed(comment=comment, addressed=choices[value])
    if request.htmx:
        comment.can_edit = True
        return render(
            request,
            "patches/_addressed.html",
            {"comment": comment, "is_cover": isinstance(comment, CoverComment)},
        )
    return HttpResponseRedirect(f"{page_url}#comment-{comment.pk}")


@require_POST
def comment_addressed(request: HtmxHttpRequest, comment_id: int) -> HttpResponse:
    comment = get_object_or_404(
        PatchComment.objects.select_related("patch__project", "patch__submitter", "submitter"),
        pk=comment_id,
    )
    return _set_addressed(request, comment, patch_url(comment.patch))


@require_POST
def cover_comment_addressed(request: HtmxHttpRequest, comment_id: int) -> HttpResponse:
    comment = get_object_or_404(
        CoverComment.objects.select_related("cover__project", "cover__submitter", "submitter"),
        pk=comment_id,
    )
    return _set_addressed(request, comment, cover_url(comment.cover))
