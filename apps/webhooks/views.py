"""Profile pages to manage one's webhooks and read their delivery log."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.webhooks import selectors, services
from apps.webhooks.forms import WebhookForm
from apps.webhooks.models import Webhook

DELIVERIES_PER_PAGE = 50


def _webhook_or_404(request, webhook_id: int) -> Webhook:
    webhook = selectors.webhook_get_for_user(request.user, webhook_id)
    if webhook is None:
        raise Http404("No such webhook.")
    return webhook


def _show_secret_once(request, webhook: Webhook, secret: str) -> None:
    request.session[f"webhook-secret-{webhook.pk}"] = secret


@login_required
def webhook_list(request):
    webhooks = selectors.webhooks_visible_to(request.user).filter(owner=request.user)
    return render(request, "webhooks/list.html", {"webhooks": webhooks})


@login_required
def webhook_create(request):
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhook, secret = services.webhook_create(
                owner=request.user,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                projects=form.cleaned_data["projects"],
                categories=form.cleaned_data["categories"],
                active=form.cleaned_data["active"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            _show_secret_once(request, webhook, secret)
            messages.success(request, "Webhook created; a ping is on its way.")
            return redirect("webhook-detail", webhook.pk)
    return render(request, "webhooks/create.html", {"form": form})


@login_required
def webhook_detail(request, webhook_id: int):
    webhook = _webhook_or_404(request, webhook_id)
    initial = {
        "url": webhook.url,
        "description": webhook.description,
        "projects": list(webhook.projects.all()),
        "categories": webhook.categories,
        "active": webhook.active,
    }
    form = WebhookForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_update(webhook=webhook, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            messages.success(request, "Webhook saved.")
            return redirect("webhook-detail", webhook.pk)
    secret = request.session.pop(f"webhook-secret-{webhook.pk}", None)
    recent = selectors.deliveries_for_webhook(webhook)[:10]
    return render(
        request,
        "webhooks/detail.html",
        {"webhook": webhook, "form": form, "secret": secret, "recent": recent},
    )


@login_required
@require_POST
def webhook_rotate(request, webhook_id: int):
    webhook = _webhook_or_404(request, webhook_id)
    try:
        hours = int(request.POST.get("overlap_hours", "24"))
        secret = services.webhook_rotate_secret(webhook=webhook, overlap=timedelta(hours=hours))
    except ValueError:
        messages.error(request, "The overlap must be a whole number of hours.")
    except ValidationError as exc:
        messages.error(request, " ".join(sum(exc.message_dict.values(), [])))
    else:
        _show_secret_once(request, webhook, secret)
        messages.success(request, f"New secret made; the old one keeps signing for {hours} h.")
    return redirect("webhook-detail", webhook.pk)


@login_required
@require_POST
def webhook_ping(request, webhook_id: int):
    webhook = _webhook_or_404(request, webhook_id)
    try:
        services.webhook_ping(webhook=webhook)
    except ValidationError as exc:
        messages.error(request, " ".join(sum(exc.message_dict.values(), [])))
    else:
        messages.success(request, "Ping queued; see the delivery log.")
    return redirect("webhook-detail", webhook.pk)


@login_required
def webhook_delete(request, webhook_id: int):
    webhook = _webhook_or_404(request, webhook_id)
    if request.method == "POST":
        services.webhook_delete(webhook=webhook)
        messages.success(request, "Webhook deleted.")
        return redirect("webhook-list")
    return render(request, "webhooks/delete.html", {"webhook": webhook})


@login_required
def delivery_list(request, webhook_id: int):
    webhook = _webhook_or_404(request, webhook_id)
    failed_only = request.GET.get("failed") in ("1", "true", "on")
    deliveries = selectors.deliveries_for_webhook(webhook, failed_only=failed_only)
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/deliveries.html",
        {"webhook": webhook, "page": page, "failed_only": failed_only},
    )


@login_required
def delivery_detail(request, webhook_id: int, delivery_id: int):
    webhook = _webhook_or_404(request, webhook_id)
    delivery = selectors.delivery_get(webhook, delivery_id)
    if delivery is None:
        raise Http404("No such delivery.")
    attempts = selectors.delivery_attempts(delivery)
    return render(
        request,
        "webhooks/delivery.html",
        {"webhook": webhook, "delivery": delivery, "attempts": attempts},
    )


@login_required
@require_POST
def delivery_redeliver(request, webhook_id: int, delivery_id: int):
    webhook = _webhook_or_404(request, webhook_id)
    delivery = selectors.delivery_get(webhook, delivery_id)
    if delivery is None:
        raise Http404("No such delivery.")
    try:
        services.delivery_redeliver(delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(sum(exc.message_dict.values(), [])))
    else:
        messages.success(request, f"Delivery {delivery.message_id} queued again.")
    return redirect("webhook-delivery", webhook.pk, delivery.pk)
