"""Every read endpoint of every version, with every kind of data, against that version's schema.

The client validates each answer (status, body, exact fields), so this walks the
whole read surface: anything a version shows that its schema does not list, or
the reverse, fails here.
"""

from __future__ import annotations

import pytest

from apps.checks.services import check_create
from apps.events.models import Event
from apps.events.services import event_record
from apps.patches.models import PatchTag
from apps.patches.services import patch_update
from apps.projects.models import Tag
from tests.api.client import ApiClient
from tests.api.conftest import state
from tests.api.schema import VERSIONS
from tests.factories import make_cover_comment, make_patch_comment, make_series

pytestmark = pytest.mark.django_db


@pytest.fixture
def everything(world, bundles, maintainer, delegate_user):
    project, p1, p2, cover = world["project"], world["p1"], world["p2"], world["cover"]
    project.list_archive_url_format = "https://lore.example.org/r/{}"
    project.save()
    patch_comment = make_patch_comment(p1, headers="Subject: Re: first\nCc: a\nCc: b\n")
    cover_comment = make_cover_comment(cover, headers="Subject: Re: cover\n")
    check = check_create(
        patch=p1, user=maintainer, state="success", target_url="https://ci.example.org/1"
    )
    patch_update(
        patch=p1, actor=maintainer, state=state("accepted"), delegate=delegate_user, related=[p2]
    )
    PatchTag.objects.create(patch=p1, tag=Tag.objects.get(name="Reviewed-by"), count=1)
    world["series"].dependencies.add(make_series(project, name="base"))
    for category, refs in (
        (Event.COVER_CREATED, {"cover": cover}),
        (Event.PATCH_CREATED, {"patch": p1}),
        (Event.PATCH_COMPLETED, {"patch": p1, "series": world["series"]}),
        (Event.SERIES_CREATED, {"series": world["series"]}),
        (Event.SERIES_COMPLETED, {"series": world["series"]}),
        (Event.PATCH_COMMENT_CREATED, {"patch": p1, "patch_comment": patch_comment}),
        (Event.COVER_COMMENT_CREATED, {"cover": cover, "cover_comment": cover_comment}),
    ):
        event_record(category=category, project=project, **refs)
    return {
        **world,
        "patch_comment": patch_comment,
        "cover_comment": cover_comment,
        "check": check,
        "bundle": bundles["public"],
    }


def read_paths(data, version: str, user) -> list[str]:
    p1, cover = data["p1"].id, data["cover"].id
    user_id = user.id if user else data["project"].maintainers.order_by("id").first().id
    paths = [
        "",
        "projects/",
        f"projects/{data['project'].id}/",
        "projects/demo/",
        "people/",
        f"people/{data['other_person'].id}/",
        "users/",
        f"users/{user_id}/",
        "patches/",
        f"patches/{p1}/",
        f"patches/{p1}/comments/",
        f"patches/{p1}/checks/",
        f"patches/{p1}/checks/{data['check'].id}/",
        "covers/",
        f"covers/{cover}/",
        f"covers/{cover}/comments/",
        "series/",
        f"series/{data['series'].id}/",
        "bundles/",
        f"bundles/{data['bundle'].id}/",
        "events/?per_page=100",
    ]
    if version >= "1.3":
        paths += [
            f"patches/{p1}/comments/{data['patch_comment'].id}/",
            f"covers/{cover}/comments/{data['cover_comment'].id}/",
        ]
    return paths


@pytest.mark.parametrize("version", [*VERSIONS, None])
def test_every_read_endpoint_matches_its_version(version, everything, maintainer, client_for):
    client = client_for(maintainer, version=version)
    for path in read_paths(everything, version or "1.4", maintainer):
        response = client.get(path)
        assert response.status_code == 200, (version, path, response)
    events = client.get("events/", {"per_page": 100}).data
    assert len({e["category"] for e in events}) == 11


@pytest.mark.parametrize("version", VERSIONS)
def test_every_read_endpoint_anonymously(version, everything):
    client = ApiClient(version)
    for path in read_paths(everything, version, None):
        if path.startswith(("people/", "users/")):
            assert client.get(path).status_code == 403
        else:
            assert client.get(path).status_code == 200, (version, path)
