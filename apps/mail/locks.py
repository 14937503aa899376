"""Claiming a stored mail for ingestion, and locking the project it goes to.

Ingestion is serialised per project: series and thread lookups then see every
earlier mail.
"""

from __future__ import annotations

from django.db import connection

from apps.mail.models import IncomingMail
from apps.projects.models import Project


def mail_claim(mail_id: int) -> IncomingMail | None:
    """The mail, locked for this transaction, if still pending: a worker that comes second
    waits for the first to commit and then finds it done."""
    pending = IncomingMail.objects.filter(pk=mail_id, status=IncomingMail.PENDING)
    return pending.select_for_update().first()


def project_lock(project: Project) -> Project:
    """Serialise ingestion per project: series and thread lookups then see every earlier mail.

    Returns the project as it is now (its settings may be newer than the context's copy).
    """
    projects = Project.objects.all()
    # SQLite already serialises writers: the claim took the database's write lock.
    if connection.vendor != "sqlite":
        projects = projects.select_for_update(no_key=True, of=("self",))
    return projects.get(pk=project.pk)
