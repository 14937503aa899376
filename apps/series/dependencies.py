"""Series dependencies (``Depends-on:``): linked now, or when the series named arrives."""

from __future__ import annotations

from dataclasses import dataclass

from apps.patches.models import Cover, Patch
from apps.series.models import AwaitedMessage, Series
from apps.series.references import references_add, references_flush


@dataclass(frozen=True)
class Dependency:
    """What a Depends-on value names: a Message-ID, a series id or a patch/cover id."""

    msgid: str = ""
    series_id: int | None = None
    patch_id: int | None = None
    cover_id: int | None = None


def series_dependencies_add(
    *, series: Series, dependencies: list[Dependency]
) -> list[AwaitedMessage]:
    """Record Depends-on: the series named exist now, or are awaited by Message-ID; the
    AwaitedMessage rows written."""
    project = series.project
    targets: set[int] = set()
    awaited: list[str] = []
    msgids = [d.msgid for d in dependencies if d.msgid]
    by_msgid: dict[str, int | None] = {}
    if msgids:
        by_msgid.update(
            Patch.objects.filter(project=project, msgid__in=msgids).values_list(
                "msgid", "series_id"
            )
        )
        by_msgid.update(
            Cover.objects.filter(project=project, msgid__in=msgids).values_list(
                "msgid", "series__id"
            )
        )
    for dependency in dependencies:
        if dependency.msgid:
            sid = by_msgid.get(dependency.msgid)
            if sid:
                targets.add(sid)
            elif dependency.msgid not in by_msgid:
                awaited.append(dependency.msgid)
        elif dependency.series_id:
            targets.update(
                Series.objects.filter(project=project, pk=dependency.series_id).values_list(
                    "pk", flat=True
                )
            )
        elif dependency.patch_id:
            targets.update(
                Patch.objects.filter(project=project, pk=dependency.patch_id)
                .exclude(series=None)
                .values_list("series_id", flat=True)
            )
        elif dependency.cover_id:
            targets.update(
                Series.objects.filter(project=project, cover_id=dependency.cover_id).values_list(
                    "pk", flat=True
                )
            )
    targets.discard(series.pk)
    if targets:
        series.dependencies.add(*targets)
    rows = [
        AwaitedMessage(project=project, msgid=m, kind=AwaitedMessage.DEPENDS, series=series)
        for m in awaited
        if len(m) <= 255
    ]
    references_add(rows)
    return rows


def series_dependencies_arrived(*, series: Series, msgid: str) -> None:
    """A patch or cover letter others Depend-on arrived: link their series to its series."""
    references_flush()
    rows = AwaitedMessage.objects.filter(
        project=series.project, kind=AwaitedMessage.DEPENDS, msgid=msgid
    )
    dependents = {sid for sid in rows.values_list("series_id", flat=True) if sid != series.pk}
    for dependent in Series.objects.filter(pk__in=dependents):
        dependent.dependencies.add(series)
    rows.delete()
