"""Plumbing shared by every REST router: versions, context, errors, bodies, lists.

The REST API is Patchwork's (DRF-based) contract reproduced on django-ninja, so
the helpers here reproduce DRF's observable behaviour where clients rely on it:
error shapes, pagination with a ``Link`` header, ``order``/``q`` parameters,
booleans spelled many ways, JSON and form-encoded bodies.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from io import BytesIO
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.urls import get_script_prefix
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.projects.params import MAX_INT, is_id, nul_fields, parse_id, parse_int

VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4")
LATEST = VERSIONS[-1]


def pwclient_backend() -> str | None:
    """The API a generated .pwclientrc points pwclient at: REST when on, else XML-RPC, else none.

    The pages that tell users about pwclient say the same (one answer for all of them).
    """
    if settings.ENABLE_REST_API:
        return "rest"
    if settings.ENABLE_XMLRPC:
        return "xmlrpc"
    return None


NOT_AUTHENTICATED = "Authentication credentials were not provided."
NO_PERMISSION = "You do not have permission to perform this action."


@functools.lru_cache(maxsize=64)
def version_tuple(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


@functools.lru_cache(maxsize=64)
def version_since(version: str, introduced: str) -> bool:
    return version_tuple(version) >= version_tuple(introduced)


# --- context -----------------------------------------------------------------


@dataclass(frozen=True)
class ApiContext:
    """What a representation depends on: the API version and where links point."""

    version: str
    api_base: str  # absolute, ends with '/': "https://host/api/1.2/" or "https://host/api/"
    site_base: str  # absolute, no trailing '/': "https://host"
    user: Any = None

    def since(self, version: str) -> bool:
        """Whether this version has what `version` introduced."""
        return version_since(self.version, version)

    def api_url(self, *parts: Any) -> str:
        if len(parts) == 2:  # the usual "series", 42: a few hundred times a page
            return f"{self.api_base}{parts[0]}/{parts[1]}/"
        return self.api_base + "".join(f"{part}/" for part in parts)

    def site_url(self, path: str) -> str:
        return self.site_base + path


def site_base_for(request: HttpRequest) -> str:
    """The absolute root of the site as the client reached it (https if forced)."""
    root = request.build_absolute_uri(get_script_prefix()).rstrip("/")
    if settings.FORCE_HTTPS_LINKS and root.startswith("http://"):
        root = "https://" + root[len("http://") :]
    return root


def api_base_for(site_base: str, version: str | None) -> str:
    """The API root for a version (None: the unversioned latest, /api/)."""
    return f"{site_base}/api/{version}/" if version else f"{site_base}/api/"


def absolute_uri(request: HttpRequest) -> str:
    """The request's own absolute URL, with https if links are forced to it."""
    uri = request.build_absolute_uri()
    if settings.FORCE_HTTPS_LINKS and uri.startswith("http://"):
        uri = "https://" + uri[len("http://") :]
    return uri


# --- errors and responses ----------------------------------------------------------


class ApiError(Exception):
    """An error answered as JSON: ``{"detail": …}`` or a dict of per-field messages."""

    def __init__(self, status: int, data: dict[str, Any]):
        super().__init__(status, data)
        self.status = status
        self.data = data


def not_found(detail: str = "Not found.") -> ApiError:
    return ApiError(404, {"detail": detail})


def forbidden(detail: str = NO_PERMISSION) -> ApiError:
    return ApiError(403, {"detail": detail})


def invalid(errors: dict[str, list[str]]) -> ApiError:
    return ApiError(400, errors)


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    response = HttpResponse(body, status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(exc: ApiError) -> HttpResponse:
    return json_response(exc.data, status=exc.status)


def validation_errors(exc) -> dict[str, list[str]]:
    """A django ValidationError as DRF shows it: field → messages (non-field → detail)."""
    if hasattr(exc, "message_dict"):
        errors = {}
        for field, messages in exc.message_dict.items():
            errors["detail" if field == "__all__" else field] = [str(m) for m in messages]
        return errors
    return {"detail": [str(m) for m in exc.messages]}


# --- values ---------------------------------------------------------------------

_TRUE = {"true", "t", "yes", "y", "on", "1"}
_FALSE = {"false", "f", "no", "n", "off", "0"}


def parse_bool(value: Any) -> bool | None:
    """True/False from JSON booleans or any usual spelling; None if it is none of them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return None


def parse_datetime_value(value: str) -> datetime | None:
    """An ISO 8601 date or date-time; naive values are UTC."""
    value = value.strip()
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            parsed = datetime.combine(day, time.min) if day else None
    except ValueError:
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def format_datetime(value: datetime | None) -> str | None:
    """Dates as the reference server shows them: ISO 8601 in UTC, without an offset."""
    if value is None:
        return None
    if timezone.is_aware(value):
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


# --- request bodies -------------------------------------------------------------


class RequestData:
    """The fields of a JSON or form body; form fields may repeat (``patches=1&patches=2``)."""

    def __init__(self, values: dict[str, Any] | QueryDict, *, form: bool):
        self._values = values
        self.form = form

    def __contains__(self, key: str) -> bool:
        return key in self._values

    def keys(self) -> list[str]:
        return list(self._values.keys())

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self._values:
            return default
        return self._values.get(key)

    def getlist(self, key: str) -> list[Any]:
        if key not in self._values:
            return []
        if isinstance(self._values, QueryDict):  # a form body (form=True)
            return self._values.getlist(key)
        value = self._values[key]
        return value if isinstance(value, list) else [value]


def _refuse_nul(values: dict[str, Any]) -> None:
    """A body with a NUL in any field is refused whole (the database cannot store it)."""
    errors = nul_fields(values)
    if errors:
        raise invalid(errors)


def parse_body(request: HttpRequest) -> RequestData:
    """JSON, form-encoded or multipart bodies; without a Content-Type there is no data."""
    content_type = request.content_type or ""
    if not request.body or not content_type:
        return RequestData({}, form=False)
    if content_type == "application/json":
        try:
            values = json.loads(request.body.decode(request.encoding or "utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # nesting: recursion
            raise ApiError(400, {"detail": f"JSON parse error - {exc}"}) from exc
        if not isinstance(values, dict):
            raise ApiError(
                400, {"detail": "Invalid data. Expected a dictionary, but got a list or value."}
            )
        _refuse_nul(values)
        return RequestData(values, form=False)
    if content_type == "application/x-www-form-urlencoded":
        form = QueryDict(request.body, encoding=request.encoding or "utf-8")
        _refuse_nul({key: form.getlist(key) for key in form})
        return RequestData(form, form=True)
    if content_type == "multipart/form-data":
        if request.method == "POST":
            _refuse_nul({key: request.POST.getlist(key) for key in request.POST})
            return RequestData(request.POST, form=True)
        try:
            fields, _files = MultiPartParser(
                request.META, BytesIO(request.body), request.upload_handlers, request.encoding
            ).parse()
        except MultiPartParserError as exc:
            raise ApiError(400, {"detail": f"Multipart form parse error - {exc}"}) from exc
        _refuse_nul({key: fields.getlist(key) for key in fields})
        return RequestData(fields, form=True)
    raise ApiError(415, {"detail": f'Unsupported media type "{content_type}" in request.'})


# --- lists: filters, search, ordering, pagination ----------------------------------------


def filter_values(request: HttpRequest, name: str, ctx: ApiContext) -> list[str]:
    """A filter's values: repeatable (OR) from 1.1; version 1.0 used only the last one."""
    values = [v.strip() for v in request.GET.getlist(name) if v.strip() != ""]
    if not ctx.since("1.1"):
        values = values[-1:]
    return values


def id_or_name_q(values: list[str], id_field: str, *name_fields: str) -> Q:
    """OR over values: digits match the id, anything else any of the name fields (no case)."""
    query = Q(pk__in=[])
    for value in values:
        if is_id(value):
            query |= Q(**{id_field: parse_id(value)})
        for field in name_fields:
            query |= Q(**{f"{field}__iexact": value})
    return query


def int_filter(request: HttpRequest, name: str, ctx: ApiContext) -> list[int]:
    values = filter_values(request, name, ctx)
    numbers = [parse_int(v) for v in values]
    whole = [n for n in numbers if n is not None]
    if len(whole) != len(numbers):
        raise invalid({name: ["Enter a whole number."]})
    return whole


def bool_filter(request: HttpRequest, name: str, ctx: ApiContext) -> bool | None:
    values = filter_values(request, name, ctx)
    if not values:
        return None
    parsed = parse_bool(values[-1])
    if parsed is None:
        raise invalid(
            {name: [f"Select a valid choice. {values[-1]} is not one of the available choices."]}
        )
    return parsed


def date_filters(qs: QuerySet, request: HttpRequest, field: str = "date") -> QuerySet:
    """``since`` (inclusive) and ``before`` (exclusive) on a date field."""
    for name, lookup in (("since", "gte"), ("before", "lt")):
        raw = request.GET.get(name, "").strip()
        if not raw:
            continue
        value = parse_datetime_value(raw)
        if value is None:
            raise invalid({name: ["Enter a valid date/time."]})
        qs = qs.filter(**{f"{field}__{lookup}": value})
    return qs


def apply_search(qs: QuerySet, request: HttpRequest, fields: list[str]) -> QuerySet:
    """``q``: every term must match one of the fields (case-insensitive substring)."""
    terms = request.GET.get("q", "").replace("\x00", "").replace(",", " ").split()
    for term in terms:
        match = Q()
        for field in fields:
            match |= Q(**{f"{field}__icontains": term})
        qs = qs.filter(match)
    return qs


def apply_ordering(
    qs: QuerySet, request: HttpRequest, fields: dict[str, str], default: str
) -> QuerySet:
    """``order=field,-other``: known fields only (others are ignored), ties broken by id."""
    wanted = []
    for term in request.GET.get("order", "").split(","):
        term = term.strip()
        descending = term.startswith("-")
        name = term.lstrip("-")
        if name in fields:
            wanted.append(("-" if descending else "") + fields[name])
    if not wanted:
        wanted = [default]
    tiebreak = "-id" if wanted[-1].startswith("-") else "id"
    if tiebreak.lstrip("-") not in {w.lstrip("-") for w in wanted}:
        wanted.append(tiebreak)
    return qs.order_by(*wanted)


def _with_page(url: str, page: int | None) -> str:
    parts = urlsplit(url)
    query = QueryDict(parts.query, mutable=True)
    query.pop("page", None)
    if page is not None:
        query["page"] = str(page)
    pairs = [(key, value) for key in query for value in query.getlist(key)]
    return urlunsplit(parts._replace(query=urlencode(pairs)))


# Lists longer than this have their length cached for COUNT_CACHE_SECONDS instead of
# counted on every request (only the rel="last" link depends on it).
COUNT_CACHE_FROM = 5_000
COUNT_CACHE_SECONDS = 60


class PageSource:
    """A REST list as ``paginate()`` sees it (a sequence): a page's ids and the list's
    length, counted up to COUNT_CACHE_FROM, come from one statement, so every page costs
    the same queries whether or not it has a next page.

    The page is found with ids only (an index-only scan, however deep), then its rows
    are loaded by id: ``load(ids)`` (default: the queryset's own rows) in that order.
    While a long list's length is cached, its pages are found without counting.
    """

    def __init__(self, qs: QuerySet, load: Callable[[list[int]], list] | None = None) -> None:
        self.qs = qs
        self.load = load or self._rows
        self.bounded: int | None = None
        self.cached: int | None = None  # the cached length of a long list
        self.key: str | None = None

    def _rows(self, ids: list[int]) -> list:
        rows = {row.pk: row for row in self.qs.filter(pk__in=ids).order_by()}
        return [rows[pk] for pk in ids if pk in rows]

    def _bounded_sql(self) -> tuple[str, tuple]:
        sql, params = self.qs.order_by().values("pk")[:COUNT_CACHE_FROM].query.sql_with_params()
        return f"SELECT COUNT(*) FROM ({sql}) bounded", params

    def _count_key(self) -> str:
        sql, params = self.qs.order_by().values("pk").query.sql_with_params()
        return "api-count:" + hashlib.sha1(repr((sql, params)).encode()).hexdigest()

    def __getitem__(self, index: slice) -> list:
        try:
            self.key = self._count_key()
        except EmptyResultSet:  # a filter naming nothing (project__in=[]): no SQL to run
            self.bounded = 0
            return []
        # A list whose length is cached is long: no need to count COUNT_CACHE_FROM rows
        # of it again (1.5-3.5 ms of the database's time a request).
        self.cached = cache.get(self.key)
        if self.cached is not None:
            return self.load(list(self.qs.values_list("pk", flat=True)[index]))
        counted = self.qs.annotate(bounded_count=RawSQL(*self._bounded_sql()))
        found = list(counted.values_list("pk", "bounded_count")[index])
        if found:
            self.bounded = found[0][1]
        return self.load([pk for pk, _ in found])

    def __len__(self) -> int:
        if self.cached is not None:
            return self.cached
        if self.bounded is None:
            self.bounded = self.qs.order_by().values("pk")[:COUNT_CACHE_FROM].count()
        if self.bounded < COUNT_CACHE_FROM:
            return self.bounded
        # Only rel="last" needs the exact length of a long list: cached for a while.
        key = self.key or self._count_key()
        total = cache.get(key)
        if total is None:
            total = self.qs.count()
            cache.set(key, total, COUNT_CACHE_SECONDS)
        return total


def paginate(request: HttpRequest, qs: QuerySet | list) -> tuple[list, dict[str, str]]:
    """One page of results and its ``Link`` header (next first, as pwclient expects).

    A page is valid when it has results (or is the first); the list's length is
    only needed for rel="last", and only when there is a next page.
    """
    per_page = min(
        parse_id(request.GET.get("per_page")) or settings.REST_RESULTS_PER_PAGE,
        settings.MAX_REST_RESULTS_PER_PAGE,
    )
    source = PageSource(qs) if isinstance(qs, QuerySet) else qs

    def length() -> int:
        return len(source)

    raw_page = request.GET.get("page", "1").strip() or "1"
    number = max(1, -(-length() // per_page)) if raw_page == "last" else parse_int(raw_page)
    if number is None or number < 1 or (number - 1) * per_page > MAX_INT:  # no offsets that far
        raise not_found("Invalid page.")
    offset = (number - 1) * per_page
    rows = list(source[offset : offset + per_page + 1])
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    if not rows and number > 1:
        raise not_found("Invalid page.")
    # A cached length may lag behind the list: the pages that exist win.
    last = max(number + 1, -(-length() // per_page)) if has_next else number

    url = absolute_uri(request)
    links = []
    if has_next:
        links.append(f'<{_with_page(url, number + 1)}>; rel="next"')
    if number > 1:
        previous = number - 1
        links.append(f'<{_with_page(url, previous if previous > 1 else None)}>; rel="prev"')
    if last > 1:
        links.append(f'<{_with_page(url, None)}>; rel="first"')
        links.append(f'<{_with_page(url, last)}>; rel="last"')
    headers = {"Link": ", ".join(links)} if links else {}
    return rows, headers


def page_response(
    request: HttpRequest, qs: QuerySet | list, render: Callable[[list], list[dict]]
) -> HttpResponse:
    """A JSON array of one page of results, rendered from the page's objects at once."""
    items, headers = paginate(request, qs)
    return json_response(render(items), headers=headers)


def require_user(ctx: ApiContext):
    """The authenticated caller, or 403 as the reference answers anonymous writes."""
    if ctx.user is None or not ctx.user.is_authenticated:
        raise forbidden(NOT_AUTHENTICATED)
    return ctx.user


def object_or_404(qs: QuerySet, raw_id: str | int):
    """The object with this id in the queryset; 404 for unknown or malformed ids."""
    pk = parse_id(raw_id)
    obj = qs.filter(pk=pk).first() if pk is not None else None
    if obj is None:
        raise not_found()
    return obj


# --- OpenAPI documentation of query parameters (ninja's own schema at /api/docs) -------

_COMMON_PARAMS: dict[str, tuple[str, str]] = {
    "page": ("integer", "A page number within the paginated result set."),
    "per_page": ("integer", "Number of results to return per page."),
    "order": ("string", "Which field to use when ordering the results."),
    "q": ("string", "A search term."),
    "since": ("string", "Earliest date-time to retrieve results for."),
    "before": ("string", "Latest date-time to retrieve results for."),
}
LIST_PARAMS = ("page", "per_page", "order", "q")
DATED_LIST_PARAMS = (*LIST_PARAMS, "before", "since")


def query_doc(*params: str | tuple[str, str, str]) -> dict[str, Any]:
    """openapi_extra documenting query parameters: common names or (name, type, text)."""
    documented = []
    for param in params:
        name, kind, text = (param, *_COMMON_PARAMS[param]) if isinstance(param, str) else param
        documented.append(
            {"in": "query", "name": name, "description": text, "schema": {"type": kind}}
        )
    return {"parameters": documented}
