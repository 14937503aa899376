"""Every model is in the admin, and its list and add pages load for a superuser."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.factories import make_bundle, make_check, make_cover, make_patch, make_series

# Every model of ours, except the rows that only exist inside another object's page
# (edited inline there).
INLINE_ONLY = {"patches.patchtag", "patches.bundlepatch"}
EXPECTED_MODELS = {
    model._meta.label_lower
    for model in apps.get_models()
    if model._meta.app_label
    in {"projects", "patches", "series", "mail", "checks", "events", "webhooks"}
} - INLINE_ONLY


def test_every_model_is_registered():
    registered = {m._meta.label_lower for m in admin.site._registry}
    assert EXPECTED_MODELS <= registered


@pytest.mark.parametrize("label", sorted(EXPECTED_MODELS))
def test_changelist_and_add_pages_load(client, superuser, project, label):
    patch = make_patch(project, series=make_series(project))
    make_cover(project)
    make_check(patch, superuser)
    make_bundle(superuser, [patch])
    client.force_login(superuser)
    app, model = label.split(".")
    response = client.get(reverse(f"admin:{app}_{model}_changelist"))
    assert response.status_code == 200
    response = client.get(reverse(f"admin:{app}_{model}_add"))
    assert response.status_code in (200, 403)  # 403 where adding by hand makes no sense


def test_project_page_has_maintainers_and_delegation_rules_inline(client, superuser, project):
    client.force_login(superuser)
    response = client.get(reverse("admin:projects_project_change", args=[project.pk]))
    assert response.status_code == 200
    assert b"maintainers" in response.content
    assert b"delegation_rules" in response.content


def test_admin_generates_an_api_token_shown_once(client, superuser, maintainer):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:projects_user_changelist"),
        {"action": "generate_api_token", "_selected_action": [maintainer.pk]},
        follow=True,
    )
    text = response.content.decode()
    assert "API token for maintainer" in text
    maintainer.refresh_from_db()
    assert maintainer.api_token.prefix in text
