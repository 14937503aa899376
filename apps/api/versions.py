"""The REST API versions: which one a request came through, and what each version added.

Every difference between 1.0 and 1.4 is named here, by the version that
introduced it: the endpoints a version mounts (apps/api/routes.py reads these),
the behaviour an endpoint gains and the fields a representation gains
(``ctx.since(NAME)`` where they are written). Only the repeatable filters of
1.1 are spelled in apps/api/support.py, which this module builds on.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from apps.api.auth import api_authenticate
from apps.api.support import (
    LATEST,
    VERSIONS,
    ApiContext,
    api_base_for,
    site_base_for,
    version_since,
)

__all__ = ["LATEST", "VERSIONS", "ApiVersion", "begin"]

# Endpoints, by the version that introduced them.
BUNDLE_WRITES = "1.2"  # POST /bundles/, PATCH/PUT/DELETE /bundles/{id}/
COMMENT_DETAIL = "1.3"  # /patches/{id}/comments/{id}/ and /covers/{id}/comments/{id}/
# Behaviour and fields, by the version that introduced them.
WEB_LINKS = "1.1"  # web_url of objects; mbox of covers; comments of patches and covers
SUBJECT_MATCH = "1.1"  # projects' subject_match
LIST_ARCHIVE = "1.2"  # list_archive_url(_format) and commit_url_format
EVENT_ACTOR = "1.2"  # events' actor
PATCH_HASH_AND_MSGID = "1.2"  # /patches/?hash= and ?msgid=, /covers/?msgid=
PATCH_RELATED = "1.2"  # patches' related, and PATCH /patches/{id}/ {"related": [...]}
USER_SETTINGS_WRITE = "1.2"  # users' settings: shown to and changed by that user
COMMENT_ADDRESSED = "1.3"  # comments' url and addressed
# Beyond the reference: the latest version only (docs/openapi-*.yaml).
EVENTS_AFTER = "1.4"  # /events/?after=<id>
SERIES_DEPENDENCIES = "1.4"  # series' dependencies/dependents, projects' show_dependencies
REVISION_LINKS = "1.4"  # series' revision links, patches' "next_revisions"


@dataclass(frozen=True)
class ApiVersion:
    """One mounted API: a version, at /api/<version>/ or (the latest) at /api/."""

    version: str
    versioned: bool = True

    def since(self, version: str) -> bool:
        return version_since(self.version, version)

    def begin(self, request: HttpRequest) -> ApiContext:
        """Authenticate the caller and build the context of their request."""
        user = api_authenticate(request)
        site = site_base_for(request)
        return ApiContext(
            version=self.version,
            api_base=api_base_for(site, self.version if self.versioned else None),
            site_base=site,
            user=user,
        )


def begin(request: HttpRequest) -> ApiContext:
    """The context of a REST request: the version of the API it came through
    (set by config/api.py on every request) and the authenticated caller."""
    version: ApiVersion = request.api_version  # type: ignore[attr-defined]
    return version.begin(request)
