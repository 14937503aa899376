"""Template helpers for mail content: every byte escaped, structure shown with CSS only."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def mail_body(text: str | None) -> SafeString:
    """Escape a mail body, wrapping quoted lines ('>') so they can be dimmed."""
    lines = []
    for line in (text or "").split("\n"):
        escaped = escape(line)
        if line.startswith(">"):
            escaped = f'<span class="quote">{escaped}</span>'
        lines.append(escaped)
    return mark_safe("\n".join(lines))  # noqa: S308 - every line was escaped above


@register.filter
def msgid_url(msgid: str, url_format: str) -> str:
    """The list archive's URL for a Message-ID (without angle brackets)."""
    return url_format.replace("{}", msgid.strip("<>")) if url_format else ""


@register.filter
def commit_url(ref: str, url_format: str) -> str:
    return url_format.replace("{}", ref) if url_format and ref else ""


@register.filter
def web_url(url: str | None) -> str:
    """The URL if it is http(s), else empty: a check's target must not become a script link."""
    url = (url or "").strip()
    return url if url.lower().startswith(("http://", "https://")) else ""
