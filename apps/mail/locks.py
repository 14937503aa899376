"""Claiming a stored mail for ingestion, and locking the project it goes to.

Ingestion is serialised per project (series and thread lookups then see every
earlier mail). The project's lock also reads its active webhooks, so the events a
mail records are written without a webhook lookup.
"""

from __future__ import annotations

from django.db import connection

from apps.events.services import events_batch_webhooks
from apps.mail.context import IngestContext
from apps.mail.models import IncomingMail
from apps.projects.models import Project
from apps.webhooks.services import webhooks_of_project, webhooks_of_project_sql


def mail_claim(mail_id: int, context: IngestContext) -> IncomingMail | None:
    """The mail, locked for this transaction, if still pending: a worker that comes second
    waits for the first to commit and then finds it done.

    Where there is only one project its mail can go to, the same statement takes that
    project's lock (and reads its settings and webhooks), which ingestion takes anyway.
    """
    projects = context.projects if connection.vendor == "postgresql" else []
    if len(projects) == 1:
        mail = _claim_with_project(mail_id, projects[0].pk)
        if mail is not None:
            return mail
    return (
        IncomingMail.objects.select_for_update().filter(pk=mail_id, status=IncomingMail.PENDING)
    ).first()


# The project a claim locked along with its mail (an attribute of that mail object only).
_LOCKED = "_locked_project"


def _claim_with_project(mail_id: int, project_id: int) -> IncomingMail | None:
    """mail_claim and project_lock in one statement; None if the mail is not pending or the
    project is gone."""
    q = connection.ops.quote_name
    mail_table, project_table = IncomingMail._meta.db_table, Project._meta.db_table
    fields = Project._meta.concrete_fields
    mail_columns = ", ".join(
        f"{q(mail_table)}.{q(f.column)}" for f in IncomingMail._meta.concrete_fields
    )
    project_columns = ", ".join(
        f"{q(project_table)}.{q(f.column)} AS {q('project__' + f.attname)}" for f in fields
    )
    webhooks, webhooks_params = webhooks_of_project_sql().as_sql(None, connection)
    found = list(
        IncomingMail.objects.raw(
            f"SELECT {mail_columns}, {project_columns}, ({webhooks}) AS project__webhooks "
            f"FROM {q(mail_table)} CROSS JOIN {q(project_table)} "
            f"WHERE {q(mail_table)}.{q('id')} = %s AND {q(mail_table)}.{q('status')} = %s "
            f"AND {q(project_table)}.{q('id')} = %s "
            f"FOR UPDATE OF {q(mail_table)} FOR NO KEY UPDATE OF {q(project_table)}",
            [*webhooks_params, mail_id, IncomingMail.PENDING, project_id],
        )
    )
    if not found:
        return None
    (mail,) = found
    values = {
        name: mail.__dict__.pop(name)
        for name in list(mail.__dict__)
        if name.startswith("project__")
    }
    project = Project.from_db(
        mail._state.db,
        [f.attname for f in fields],
        [values[f"project__{f.attname}"] for f in fields],
    )
    events_batch_webhooks(project.pk, webhooks_of_project(values["project__webhooks"]))
    mail.__dict__[_LOCKED] = project
    return mail


def project_lock(project: Project) -> Project:
    """Serialise ingestion per project: series and thread lookups then see every earlier mail.

    Returns the project as it is now (its settings may be newer than the context's copy).
    Its active webhooks are read in the same statement, so the events this mail records
    are written without a webhook lookup — and a webhook created before this transaction
    started is seen, however long a worker has kept its context.
    """
    projects = Project.objects.annotate(webhooks_json=webhooks_of_project_sql())
    # SQLite already serialises writers: the claim took the database's write lock.
    if connection.vendor != "sqlite":
        projects = projects.select_for_update(no_key=True, of=("self",))
    locked = projects.get(pk=project.pk)
    events_batch_webhooks(locked.pk, webhooks_of_project(locked.__dict__.pop("webhooks_json")))
    return locked


def claimed_project(mail: IncomingMail, project: Project) -> Project | None:
    """The project, if the claim of this mail already locked it (else None: lock it)."""
    locked = mail.__dict__.pop(_LOCKED, None)
    return locked if locked is not None and locked.pk == project.pk else None
