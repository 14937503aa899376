"""Bundles: my bundles, and a bundle's page (reorder, remove, rename, publish, delete)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from apps.patches.models import Bundle, BundlePatch
from apps.patches.services import (
    bundle_check_can_edit,
    bundle_check_can_view,
    bundle_delete,
    bundle_remove_patches,
    bundle_reorder,
    bundle_update,
)
from apps.web.http import HtmxHttpRequest


def bundle_url(bundle: Bundle) -> str:
    return reverse("bundle-detail", args=[bundle.owner.username, bundle.name])


@login_required
def bundle_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert user.is_authenticated  # login_required
    bundles = list(
        Bundle.objects.filter(owner=user)
        .select_related("project", "owner")
        .annotate(patch_count=Count("bundlepatches"))
        .order_by("name")
    )
    return render(request, "bundles/list.html", {"bundles": bundles})


def _bundle_or_404(request: HttpRequest, username: str, name: str) -> Bundle:
    """The bundle if this user may see it; private bundles are 404 to everyone else."""
    bundle = (
        Bundle.objects.select_related("owner", "project")
        .filter(owner__username=username, name=name)
        .first()
    )
    if bundle is None or not bundle_check_can_view(request.user, bundle):
        raise Http404("No such bundle")
    return bundle


def _bundle_items(bundle: Bundle) -> list[BundlePatch]:
    return list(
        BundlePatch.objects.filter(bundle=bundle)
        .select_related("patch", "patch__project", "patch__state", "patch__submitter")
        .only(
            "id",
            "order",
            "patch__id",
            "patch__msgid",
            "patch__name",
            "patch__date",
            "patch__archived",
            "patch__project__linkname",
            "patch__project__name",
            "patch__state__name",
            "patch__state__action_required",
            "patch__submitter__name",
            "patch__submitter__email",
        )
        .order_by("order", "id")
    )


def bundle_detail(request: HtmxHttpRequest, username: str, name: str) -> HttpResponse:
    bundle = _bundle_or_404(request, username, name)
    can_edit = bundle_check_can_edit(request.user, bundle)
    if request.method == "POST":
        if not can_edit:
            raise Http404("No such bundle")
        return _bundle_post(request, bundle)
    context = {
        "bundle": bundle,
        "items": _bundle_items(bundle),
        "can_edit": can_edit,
        "bundle_url": bundle_url(bundle),
    }
    return render(request, "bundles/detail.html", context)


def _bundle_post(request: HtmxHttpRequest, bundle: Bundle) -> HttpResponse:
    action = request.POST.get("action", "")
    url = bundle_url(bundle)
    try:
        if action == "delete":
            name = bundle.name
            bundle_delete(bundle=bundle)
            messages.success(request, f"Deleted bundle '{name}'.")
            return _go(request, reverse("user-bundles"))
        if action == "rename":
            bundle_update(bundle=bundle, name=request.POST.get("name", ""))
            messages.success(request, f"Renamed to '{bundle.name}'.")
            return _go(request, bundle_url(bundle))
        if action == "public":
            value = request.POST.get("public", "")
            if value not in ("true", "false"):
                raise ValidationError({"public": ["public must be true or false."]})
            bundle_update(bundle=bundle, public=value == "true")
            message = "The bundle is now public." if bundle.public else "The bundle is private."
            return _done(request, bundle, url, message)
        ids = _patch_ids(request)
        if action == "reorder":
            bundle_reorder(bundle=bundle, patch_ids=ids)
            if request.htmx:  # the page already shows the new order: just confirm
                return render(request, "bundles/_status.html", {"message": "Order saved."})
            return _done(request, bundle, url, "Order saved.")
        if action == "remove":
            removed = bundle_remove_patches(bundle=bundle, patch_ids=ids)
            return _done(request, bundle, url, f"Removed {removed} patch(es).")
        raise ValidationError({"action": [f"Unknown action '{action}'."]})
    except ValidationError as exc:
        detail = "; ".join(m for msgs in exc.message_dict.values() for m in msgs)
        bundle.refresh_from_db()
        if request.htmx:
            return _render_manage(request, bundle, detail, error=True, status=400)
        messages.error(request, detail)
        return HttpResponseRedirect(bundle_url(bundle))


def _patch_ids(request: HttpRequest) -> list[int]:
    try:
        ids = [int(v) for v in request.POST.getlist("patch_id")]
    except ValueError as exc:
        raise ValidationError({"patch_id": ["Patch ids must be numbers."]}) from exc
    if not ids:
        raise ValidationError({"patch_id": ["Select at least one patch."]})
    return ids


def _go(request: HtmxHttpRequest, url: str) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _done(request: HtmxHttpRequest, bundle: Bundle, url: str, message: str) -> HttpResponse:
    if request.htmx:
        return _render_manage(request, bundle, message)
    messages.success(request, message)
    return HttpResponseRedirect(url)


def _render_manage(
    request: HttpRequest, bundle: Bundle, message: str, error: bool = False, status: int = 200
) -> HttpResponse:
    """The bundle's patch list and settings, re-rendered after a change."""
    context = {
        "bundle": bundle,
        "items": _bundle_items(bundle),
        "can_edit": True,
        "bundle_url": bundle_url(bundle),
        "message": message,
        "error": error,
    }
    return render(request, "bundles/_manage.html", context, status=status)
