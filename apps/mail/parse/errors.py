"""The one exception the parser raises: the mail cannot be turned into data."""

from __future__ import annotations


class MailParseError(ValueError):
    """A mail that is malformed beyond repair; the message is the reason kept with it."""
