"""Submissions (patches, cover letters), their comments, tags, relations and bundles."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.patches.document import DiffSearchField, PatchQuerySet
from apps.projects.models import Person, Project, State, Tag


class EmailMixin(models.Model):
    """What every stored mail has: its Message-ID, date, headers, body and sender."""

    msgid = models.CharField(max_length=255, help_text="Message-ID with angle brackets")
    date = models.DateTimeField(default=timezone.now)
    headers = models.TextField(blank=True, default="", help_text="Original headers, unfolded")
    content = models.TextField(blank=True, default="")
    submitter = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True

    @property
    def url_msgid(self) -> str:
        """The Message-ID as it appears in URLs: without angle brackets."""
        return self.msgid.strip("<>")


class Cover(EmailMixin):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="covers")
    name = models.CharField(max_length=255)
    submitter = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="covers")

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["msgid", "project"], name="unique_cover_msgid")
        ]
        indexes = [models.Index(fields=["project", "date"], name="cover_project_date")]

    def __str__(self) -> str:
        return self.name


class PatchRelation(models.Model):
    """Patches that belong together across series (e.g. backports); patches point here."""

    def __str__(self) -> str:
        return f"relation {self.pk}"


class Patch(EmailMixin):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="patches")
    name = models.CharField(max_length=255)
    submitter = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="patches")
    diff = models.TextField(null=True, blank=True)
    # The diff's 'diff --git' lines, '/' as ' ': what the search document (a generated
    # column, migration 0008) reads of the diff, computed here rather than by a regexp.
    search_paths = DiffSearchField(null=True, blank=True, editable=False)
    pull_url = models.CharField(max_length=255, null=True, blank=True)
    commit_ref = models.CharField(max_length=255, null=True, blank=True)
    hash = models.CharField(max_length=40, null=True, blank=True)
    state = models.ForeignKey(State, on_delete=models.PROTECT, related_name="patches")
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="delegated_patches",
    )
    archived = models.BooleanField(default=False)
    series = models.ForeignKey(
        "series.Series",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patches",
    )
    number = models.PositiveIntegerField(
        null=True, blank=True, help_text="Position in its series (the N of N/M)"
    )
    related = models.ForeignKey(
        PatchRelation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patches",
    )
    tags = models.ManyToManyField(Tag, through="PatchTag", blank=True)

    objects = PatchQuerySet.as_manager()

    # Not columns: annotated by apps.patches.mbox._patches_qs.
    diff_length: int | None
    short_diff: str | None
    # Not columns: the newest event id and the patch's tag counts (Acked-by ×2, …), read
    # with a patch page's data (apps.patches.sql.patch_for_page).
    live_cursor: int | None
    page_tags: list[dict]
    # Not columns: set by the web pages for their templates (apps.web.patches.rows and
    # .detail): the patch's URLs, tag counts and check summary in a list row.
    row_url: str
    row_series_url: str
    row_tags: list[dict]
    row_checks: dict | None
    page_url: str
    nav_number: int
    nav_name: str
    nav_current: bool

    class Meta:
        verbose_name_plural = "patches"
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["msgid", "project"], name="unique_patch_msgid"),
        ]
        indexes = [
            # With the id, the web list's pages (by date) are found by an index-only scan.
            models.Index(
                fields=["project", "archived", "state", "date", "id"], name="patch_list_idx"
            ),
            # The REST list's default order (by id), filtered by project, archived and state:
            # its pages are found by an index-only scan, however deep.
            models.Index(fields=["project", "archived", "state", "id"], name="patch_list_by_id"),
            models.Index(fields=["project", "date"], name="patch_project_date"),
            models.Index(fields=["hash"], name="patch_hash"),
            models.Index(fields=["msgid"], name="patch_msgid"),
            models.Index(fields=["series", "number"], name="patch_series_number"),
            models.Index(fields=["delegate", "state", "archived"], name="patch_delegate_todo"),
            models.Index(fields=["submitter", "date"], name="patch_submitter_date"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "diff" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_paths"}
        super().save(*args, **kwargs)


class PatchTag(models.Model):
    """How many times a tag (Acked-by, ...) was given to a patch, comments included."""

    patch = models.ForeignKey(Patch, on_delete=models.CASCADE, related_name="patchtags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)
    count = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patch", "tag"], name="unique_patch_tag")]

    def __str__(self) -> str:
        return f"{self.tag_id} x{self.count} on {self.patch_id}"


class PatchComment(EmailMixin):
    patch = models.ForeignKey(Patch, on_delete=models.CASCADE, related_name="comments")
    submitter = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="patch_comments")
    addressed = models.BooleanField(null=True, blank=True)

    # Not a column: set by the web pages for their templates (apps.web.patches.detail).
    can_edit: bool

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["msgid", "patch"], name="unique_patch_comment_msgid")
        ]
        indexes = [models.Index(fields=["patch", "date"], name="patchcomment_patch_date")]

    def __str__(self) -> str:
        return f"comment {self.msgid} on {self.patch_id}"


class CoverComment(EmailMixin):
    cover = models.ForeignKey(Cover, on_delete=models.CASCADE, related_name="comments")
    submitter = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="cover_comments")
    addressed = models.BooleanField(null=True, blank=True)

    # Not a column: set by the web pages for their templates (apps.web.patches.detail).
    can_edit: bool

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["msgid", "cover"], name="unique_cover_comment_msgid")
        ]
        indexes = [models.Index(fields=["cover", "date"], name="covercomment_cover_date")]

    def __str__(self) -> str:
        return f"comment {self.msgid} on cover {self.cover_id}"


class Bundle(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bundles"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="bundles")
    name = models.CharField(max_length=50)
    public = models.BooleanField(default=False)
    patches = models.ManyToManyField(Patch, through="BundlePatch", related_name="bundles")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_bundle_owner_name")
        ]

    def __str__(self) -> str:
        return self.name


class BundlePatch(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="bundlepatches")
    patch = models.ForeignKey(Patch, on_delete=models.CASCADE, related_name="bundlepatches")
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["order"]
        constraints = [
            models.UniqueConstraint(fields=["bundle", "patch"], name="unique_bundle_patch"),
        ]

    def __str__(self) -> str:
        return f"{self.patch_id} at {self.order} in {self.bundle_id}"


class PatchChangeNotification(models.Model):
    """A patch whose state changed: its submitter is due a digest mail once it settles."""

    patch = models.OneToOneField(
        Patch, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    orig_state = models.ForeignKey(
        State, on_delete=models.CASCADE, related_name="+", help_text="State before the change"
    )
    last_modified = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"notification for patch {self.patch_id}"
