"""Site paths of submissions, series, bundles and their downloads.

One place builds them so the REST API (``web_url``, ``mbox``), the pages, mail
and webhooks agree. Message-IDs appear without angle brackets and are quoted
the way Django's ``reverse()`` quotes a ``path`` converter (so '/' stays).
"""

from __future__ import annotations

import re
from urllib.parse import quote

# What reverse() leaves unquoted in a path: RFC 3986 sub-delims plus "/~:@".
_SAFE = "!$&'()*+,;=/~:@"
# A value made only of what quote() leaves alone (most Message-IDs) is returned as is:
# quote() took most of the time of rendering a page of series and their patches.
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~" + re.escape(_SAFE) + "-]*")


def _q(value: str) -> str:
    if _UNQUOTED.fullmatch(value):
        return value
    return quote(value, safe=_SAFE)


def url_msgid(msgid: str) -> str:
    """A Message-ID as it appears in URLs: without the angle brackets."""
    return msgid.strip().removeprefix("<").removesuffix(">")


def patch_path(linkname: str, msgid: str) -> str:
    return f"/project/{_q(linkname)}/patch/{_q(url_msgid(msgid))}/"


def patch_mbox_path(linkname: str, msgid: str) -> str:
    return patch_path(linkname, msgid) + "mbox/"


def patch_raw_path(linkname: str, msgid: str) -> str:
    return patch_path(linkname, msgid) + "raw/"


def cover_path(linkname: str, msgid: str) -> str:
    return f"/project/{_q(linkname)}/cover/{_q(url_msgid(msgid))}/"


def cover_mbox_path(linkname: str, msgid: str) -> str:
    return cover_path(linkname, msgid) + "mbox/"


def patch_comment_path(comment_id: int) -> str:
    return f"/comment/{comment_id}/"


def cover_comment_path(comment_id: int) -> str:
    return f"/comment/cover/{comment_id}/"


def series_path(series_id: int) -> str:
    return f"/series/{series_id}/"


def series_mbox_path(series_id: int) -> str:
    return f"/series/{series_id}/mbox/"


def series_range_diff_path(linkname: str, series_id: int) -> str:
    return f"/project/{linkname}/series/{series_id}/range-diff/"


def bundle_path(username: str, name: str) -> str:
    return f"/bundle/{_q(username)}/{_q(name)}/"


def bundle_mbox_path(username: str, name: str) -> str:
    return bundle_path(username, name) + "mbox/"
