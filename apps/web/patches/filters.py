"""The patch list's filters and sort order, read from (and written back to) the URL."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import QueryDict

from apps.accounts.models import User
from apps.patches.models import Patch
from apps.patches.search import SearchError, parse_query, patch_search, search_nobody_notes
from apps.projects.models import Person, State
from apps.projects.params import is_id, parse_id

# Sortable columns: URL name -> model fields (the patch id breaks ties, same direction).
SORT_FIELDS: dict[str, list[str]] = {
    "id": ["id"],
    "name": ["name"],
    "date": ["date"],
    "submitter": ["submitter__name", "submitter__email"],
    "delegate": ["delegate__username"],
    "state": ["state__ordering"],
    "series": ["series__name"],
}
DEFAULT_ORDER = "-date"
ARCHIVE_CHOICES = {"false": "Not archived", "true": "Archived only", "both": "Both"}
ANY_STATE = "*"
NOBODY = "none"

_ADDRESS = re.compile(r"<([^<>@\s]+@[^<>\s]+)>\s*$")


@dataclass
class PatchListFilters:
    """What a list URL asks for; `errors` says which parts of it were not understood."""

    state: list[str] = field(default_factory=list)
    submitter: str = ""
    delegate: str = ""
    q: str = ""
    archive: str = "false"
    series: str = ""
    order: str = DEFAULT_ORDER
    errors: list[str] = field(default_factory=list)
    # Filters the search box's own terms set (state:, is:archived, delegate:, from:): the
    # matching menus are set aside, so the list shows what the search says.
    search_owns: list[str] = field(default_factory=list)
    # Resolved from the parameters above:
    states: list[State] | None = None  # None: any state
    match_nothing: bool = False

    @property
    def action_required(self) -> bool:
        """The default view: no state asked for means the states that need action."""
        return not self.state and "state" not in self.search_owns

    @property
    def any_state(self) -> bool:
        return ANY_STATE in self.state

    @property
    def order_field(self) -> str:
        return self.order.lstrip("-")

    @property
    def order_descending(self) -> bool:
        return self.order.startswith("-")

    def params(self, **overrides) -> dict[str, object]:
        """The non-default parameters, for building URLs (page dropped unless given)."""
        values: dict[str, object] = {
            "state": self.state,
            "submitter": self.submitter,
            "delegate": self.delegate,
            "q": self.q,
            "archive": "" if self.archive == "false" else self.archive,
            "series": self.series,
            "order": "" if self.order == DEFAULT_ORDER else self.order,
        }
        for owned in self.search_owns:  # the search's terms carry these
            values[owned] = ""
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in ("", None, [])}

    def querystring(self, **overrides) -> str:
        return urlencode(self.params(**overrides), doseq=True)

    def sort_querystring(self, column: str) -> str:
        """The URL query that sorts by column, flipping direction if it is the current one."""
        if self.order_field == column:
            order = column if self.order_descending else f"-{column}"
        else:
            order = f"-{column}" if column == "date" else column
        return self.querystring(order=order)

    @property
    def is_default(self) -> bool:
        return not self.params()


def parse_filters(query: QueryDict, all_states: list[State]) -> PatchListFilters:
    """Read the list's filter and sort parameters; unknown values become errors, not guesses."""
    f = PatchListFilters(
        state=[s.strip() for s in query.getlist("state") if s.strip()],
        submitter=query.get("submitter", "").strip(),
        delegate=query.get("delegate", "").strip(),
        q=query.get("q", "").strip(),
        archive=query.get("archive", "false").strip().lower() or "false",
        series=query.get("series", "").strip(),
        order=query.get("order", "").strip() or DEFAULT_ORDER,
    )
    search_takes_over(f)
    if "state" in f.search_owns:
        f.states = None  # the search's term decides
    elif not f.state:
        f.states = [s for s in all_states if s.action_required]
    elif not f.any_state:
        by_key = {s.slug: s for s in all_states} | {str(s.pk): s for s in all_states}
        by_key |= {s.name.lower(): s for s in all_states}
        f.states = []
        for value in f.state:
            state = by_key.get(value) or by_key.get(value.lower())
            if state is None:
                f.errors.append(f"Unknown state '{value}'.")
                f.match_nothing = True
            else:
                f.states.append(state)
    if f.archive not in ARCHIVE_CHOICES:
        f.errors.append(f"Unknown archive filter '{f.archive}': use true, false or both.")
        f.archive = "false"
    if f.series and not is_id(f.series):
        f.errors.append(f"Series must be a number, not '{f.series}'.")
        f.match_nothing = True
    if f.order_field not in SORT_FIELDS:
        f.errors.append(f"Can't sort by '{f.order_field}'.")
        f.order = DEFAULT_ORDER
    check_people(f)
    f.errors += search_nobody_notes(f.q)  # the search's delegate: and from: terms alike
    return f


def _address(value: str) -> str:
    match = _ADDRESS.search(value)
    return match.group(1) if match else (value if "@" in value else "")


def submitter_people(value: str) -> QuerySet[Person]:
    """The people a submitter filter names (see submitter_q)."""
    if (pk := parse_id(value)) is not None:
        return Person.objects.filter(pk=pk)
    if address := _address(value):
        return Person.objects.filter(email__iexact=address)
    return Person.objects.filter(Q(name__icontains=value) | Q(email__icontains=value))


# Search terms and the filter menus they take over.
SEARCH_TAKES_OVER = {
    "state": "state",
    "is:archived": "archive",
    "delegate": "delegate",
    "from": "submitter",
}


def search_takes_over(f: PatchListFilters) -> None:
    """Set aside the menus whose filter a term of the search sets (a query that cannot
    be understood changes nothing here: apply_filters reports it)."""
    try:
        terms = parse_query(f.q) if f.q else []
    except SearchError:
        return
    for term in terms:
        key = f"is:{term.value.lower()}" if term.key == "is" else term.key
        if key == "is:action-required":
            key = "state"
        owned = SEARCH_TAKES_OVER.get(key)
        if owned and owned not in f.search_owns:
            f.search_owns.append(owned)
    if "state" in f.search_owns:
        f.state = []
    if "archive" in f.search_owns:
        f.archive = "both"
    if "delegate" in f.search_owns:
        f.delegate = ""
    if "submitter" in f.search_owns:
        f.submitter = ""


def submitter_q(value: str) -> Q:
    """A person id, an e-mail address (bare or 'Name <addr>'), or part of a name or address."""
    if is_id(value):
        return Q(submitter_id=parse_id(value))
    if address := _address(value):
        return Q(submitter__email__iexact=address)
    return Q(submitter__in=submitter_people(value).values("id"))


def delegate_users(value: str) -> QuerySet[User]:
    """The users a delegate filter other than 'none' names (see delegate_q)."""
    if (pk := parse_id(value)) is not None:
        return User.objects.filter(pk=pk)
    return User.objects.filter(
        Q(username__iexact=value)
        | Q(email__iexact=value)
        | Q(first_name__icontains=value)
        | Q(last_name__icontains=value)
    )


def delegate_q(value: str) -> Q:
    """A user id, a username, 'none' for undelegated patches, or part of a name."""
    if value.lower() == NOBODY:
        return Q(delegate__isnull=True)
    if is_id(value):
        return Q(delegate_id=parse_id(value))
    return Q(delegate__in=delegate_users(value).values("id"))


def check_people(f: PatchListFilters) -> None:
    """A submitter or delegate filter that names nobody says so (rather than an empty list)."""
    if f.submitter and not submitter_people(f.submitter).exists():
        f.errors.append(f"No submitter matches '{f.submitter}'.")
        f.match_nothing = True
    if f.delegate and f.delegate.lower() != NOBODY and not delegate_users(f.delegate).exists():
        f.errors.append(f"No user matches the delegate '{f.delegate}'.")
        f.match_nothing = True


def apply_filters(qs: QuerySet[Patch], f: PatchListFilters) -> QuerySet[Patch]:
    """Narrow a project's patches by the filters and put them in the requested order."""
    if f.match_nothing:
        return qs.none()
    if f.states is not None:
        qs = qs.filter(state_id__in=[s.pk for s in f.states])
    if f.archive == "false":
        qs = qs.filter(archived=False)
    elif f.archive == "true":
        qs = qs.filter(archived=True)
    if f.submitter:
        qs = qs.filter(submitter_q(f.submitter))
    if f.delegate:
        qs = qs.filter(delegate_q(f.delegate))
    if f.q:
        try:
            qs = patch_search(qs, f.q)
        except SearchError as exc:
            f.errors.append(str(exc))
            return qs.none()
    if f.series:
        series_id = parse_id(f.series)
        assert series_id is not None  # parse_filters matched nothing for any other series
        qs = qs.filter(series_id=series_id)
    prefix = "-" if f.order_descending else ""
    ordering = [prefix + name for name in SORT_FIELDS[f.order_field]]
    if f.order_field != "id":
        ordering.append(prefix + "id")
    return qs.order_by(*ordering)
