"""What ingestion looks up over and over (projects, tags, states, rules), cached per run.

One mail uses a fresh context; parsearchive keeps one for the whole archive,
which saves a few queries per message. Nothing here writes.
"""

from __future__ import annotations

import fnmatch
import time
from functools import cached_property

from apps.accounts.models import User
from apps.mail.arrival import LiveLookups
from apps.mail.locks import project_lock
from apps.mail.parse.diff import find_filenames
from apps.mail.people import person_for_mail
from apps.projects.models import DelegationRule, Person, Project, State, Tag
from apps.projects.selectors import state_default, state_lookup, user_is_maintainer

# How long a worker process reuses its context before reading those rows again.
WORKER_CONTEXT_SECONDS = 10


class IngestContext:
    """Per-run caches of rarely changing rows."""

    def __init__(self) -> None:
        self._rules: dict[int, list[tuple[str, User]]] = {}
        self._states: dict[str, State | None] = {}
        # email (lower case) -> Person, filled as transactions commit.
        self.people: dict[str, Person] = {}
        # The projects the current batch's transaction has locked (apps/mail/batch.py);
        # None outside a batch, where each mail locks its project in its own transaction.
        self.locked: dict[int, Project] | None = None
        # Thread lookups, and the writes that change their answers: from the database one
        # mail at a time, from a per-batch read of them all in a batch (BatchLookups).
        self.lookups: LiveLookups = LiveLookups()
        # Batches this run has applied (apps/mail/batch.py).
        self.batches = 0
        self.created = time.monotonic()

    def person(self, *, email: str, name: str) -> Person:
        """person_for_mail with this run's cache; in a batch, people found or created by
        its earlier mails are reused at once (steps_apply and _ingest forget them on a
        rollback)."""
        return person_for_mail(
            email=email, name=name, cache=self.people, at_once=self.locked is not None
        )

    def project_locked(self, project: Project) -> Project:
        """project_lock, once per batch transaction (the lock is held until it ends)."""
        if self.locked is None:
            return project_lock(project)
        if project.pk not in self.locked:
            self.locked[project.pk] = project_lock(project)
        return self.locked[project.pk]

    @cached_property
    def projects(self) -> list[Project]:
        return list(Project.objects.all())

    def refresh_projects(self) -> bool:
        """Forget the projects read so far (one may have been added since); True if it did."""
        return self.__dict__.pop("projects", None) is not None

    @cached_property
    def tag_patterns(self) -> dict[int, str]:
        return dict(Tag.objects.values_list("pk", "pattern"))

    @cached_property
    def default_state(self) -> State:
        state = state_default()
        if state is None:
            raise RuntimeError("no patch states are defined (load default_states)")
        return state

    def state(self, hint: str) -> State:
        """The state an X-Patchwork-State hint names, else the default (invalid hints are ignored)."""
        if not hint:
            return self.default_state
        if hint not in self._states:
            self._states[hint] = state_lookup(hint)
        return self._states[hint] or self.default_state

    def hints_trusted(self, project: Project, submitter: Person) -> bool:
        """Whether this sender's X-Patchwork-State/-Delegate headers are followed here."""
        if project.hint_headers_from == Project.HINTS_FROM_ANYONE:
            return True
        if project.hint_headers_from == Project.HINTS_FROM_NOBODY:
            return False
        sender = submitter.user or _user_by_address(submitter.email)
        return sender is not None and sender.is_active and user_is_maintainer(sender, project)

    def delegate(self, project: Project, hint: str, diff: str | None) -> User | None:
        """X-Patchwork-Delegate if it names a maintainer, else what the DelegationRules agree on."""
        user = _user_by_address(hint) if hint else None
        # The rule REST applies: only someone who may be a delegate becomes one.
        if user is not None and user_is_maintainer(user, project):
            return user
        if not diff:
            return None
        rules = self._rules.get(project.pk)
        if rules is None:
            rules = [
                (rule.path, rule.user)
                for rule in DelegationRule.objects.filter(project=project)
                .select_related("user")
                .order_by("-priority", "path")
            ]
            self._rules[project.pk] = rules
        return rules_delegate(rules, find_filenames(diff)) if rules else None


def rules_delegate(rules: list[tuple[str, User]], filenames: list[str]) -> User | None:
    """The delegate autodelegation gives a patch touching filenames, as Patchwork decides.

    Each file is delegated by the first rule (highest priority, then path) whose
    fnmatch pattern matches it; the patch gets a delegate only when every file has
    one and it is the same user for all. One file no rule matches, or two users,
    means nobody: a partial match must not hand a maintainer someone else's code.
    """
    chosen: User | None = None
    for name in filenames:
        user = next((user for pattern, user in rules if fnmatch.fnmatch(name, pattern)), None)
        if user is None or (chosen is not None and user.pk != chosen.pk):
            return None
        chosen = user
    return chosen


def _user_by_address(email: str) -> User | None:
    """The active account an address is the primary or a linked address of."""
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None:
        person = (
            Person.objects.filter(email__iexact=email, user__is_active=True)
            .select_related("user")
            .first()
        )
        user = person.user if person else None
    return user


_worker_context: IngestContext | None = None


def worker_context() -> IngestContext:
    """The context a worker process shares between mails, renewed every WORKER_CONTEXT_SECONDS.

    A tag, state or delegation rule changed by an admin applies to mail ingested after
    that; a new project is found at once (refresh_projects), and a project's own settings
    are read fresh with its lock.
    """
    global _worker_context
    now = time.monotonic()
    if _worker_context is None or now - _worker_context.created > WORKER_CONTEXT_SECONDS:
        _worker_context = IngestContext()
    return _worker_context
