"""The diff's part of a patch's search document, computed by Python when the patch is written.

The search document (apps/patches/search.py) indexes a patch's name, its commit
message and the paths its diff touches: the diff's ``diff --git`` lines, '/' read as
a space so a directory or a file name matches on its own. PostgreSQL used to pick
those lines out of the whole diff with a per-line regexp (two thirds of the cost of
inserting a patch: docs/benchmarks.md, "A search document without the regexp"); here
they are found with ``str.find`` (about 7 µs for a 10 KB diff) and stored in
``Patch.search_paths``, from which PostgreSQL builds the document (migration 0008).
"""

from __future__ import annotations

from django.db import models

MARKER = "\ndiff --git "


def diff_search_text(diff: str | None) -> str:
    """The diff's lines that start with 'diff --git ', '/' as ' ', one a line.

    The same words, in the same order, as PostgreSQL's
    ``translate(regexp_replace(diff, '^(?!diff --git ).*$', '', 'gn'), '/', ' ')``,
    which keeps those lines and empties the others (only '\\n' ends a line there too).
    """
    if not diff:
        return ""
    text = "\n" + diff
    kept = []
    start = text.find(MARKER)
    while start != -1:
        end = text.find("\n", start + 1)
        if end == -1:
            end = len(text)
        kept.append(text[start + 1 : end])
        start = text.find(MARKER, end)
    return "\n".join(kept).replace("/", " ")


class DiffSearchField(models.TextField):
    """Filled from the instance's diff whenever the row is written: by save(), create()
    and bulk_create() alike (they all ask the field for its value). NULL in a row
    written behind the ORM's back: the document then computes it in SQL (migration 0008)."""

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = diff_search_text(model_instance.diff)  # type: ignore[attr-defined]
        setattr(model_instance, self.attname, value)
        return value


class PatchQuerySet(models.QuerySet):
    """Patches; an update of the diff (update(), bulk_update()) updates the text the search
    document reads."""

    def update(self, **kwargs) -> int:
        if "diff" in kwargs and "search_paths" not in kwargs:
            diff = kwargs["diff"]
            # An expression (F(), Concat()…) is not known here: NULL, computed in SQL.
            plain = diff is None or isinstance(diff, str)
            kwargs["search_paths"] = diff_search_text(diff) if plain else None
        return super().update(**kwargs)

    update.alters_data = True  # type: ignore[attr-defined]

    def bulk_update(self, objs, fields, batch_size=None) -> int:
        if "diff" in fields and "search_paths" not in fields:
            objs = list(objs)
            for patch in objs:
                patch.search_paths = diff_search_text(patch.diff)
            fields = [*fields, "search_paths"]
        return super().bulk_update(objs, fields, batch_size=batch_size)

    bulk_update.alters_data = True  # type: ignore[attr-defined]
