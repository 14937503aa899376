"""Template helpers for mail content: every byte escaped, structure shown with CSS only."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from apps.projects.http_urls import http_url
from apps.web.patches.fast_rows import escape

register = template.Library()


@register.filter
def mail_body(text: str | None) -> SafeString:
    """Escape a mail body, wrapping quoted lines ('>') so they can be dimmed."""
    lines = []
    # Escaped whole, then split: escaping maps each character on its own and keeps the
    # newlines, so a line starts with ">" iff its escaped form starts with "&gt;".
    for escaped in escape(text or "").split("\n"):
        if escaped.startswith("&gt;"):
            escaped = f'<span class="quote">{escaped}</span>'
        lines.append(escaped)
    return mark_safe("\n".join(lines))  # noqa: S308 - the whole text was escaped above


@register.filter
def msgid_url(msgid: str, url_format: str) -> str:
    """The list archive's URL for a Message-ID (without angle brackets), if http(s)."""
    return http_url(url_format.replace("{}", msgid.strip("<>"))) if url_format else ""


@register.filter
def commit_url(ref: str, url_format: str) -> str:
    """The web SCM's URL of a commit, if http(s)."""
    return http_url(url_format.replace("{}", ref)) if url_format and ref else ""


# Every stored URL a template puts into an href goes through this one filter (or the two
# above, which end in it): anything but http(s) is no link at all.
register.filter("http_url", http_url)
