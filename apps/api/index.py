"""REST endpoint: the API root, listing the resources."""

from __future__ import annotations

from ninja import Router

from apps.api.support import json_response
from apps.api.versions import begin

# Resources listed by the index, each a router mounted at /<name>/.
INDEX = ("bundles", "covers", "events", "patches", "people", "projects", "users", "series")

router = Router()


@router.get("/", summary="List API resources.", tags=["api"])
def api_list(request):
    ctx = begin(request)
    return json_response({name: ctx.api_url(name) for name in INDEX})
