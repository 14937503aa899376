"""The outcome of ingesting one mail, as stored on its IncomingMail row."""

from __future__ import annotations

from dataclasses import dataclass

from apps.mail.models import IncomingMail


@dataclass
class Result:
    status: str
    outcome: str = ""
    reason: str = ""

    @classmethod
    def parsed(cls, outcome: str) -> Result:
        return cls(IncomingMail.PARSED, outcome=outcome)

    @classmethod
    def ignored(cls, reason: str) -> Result:
        return cls(IncomingMail.IGNORED, reason=reason)

    @classmethod
    def failed(cls, reason: str) -> Result:
        return cls(IncomingMail.FAILED, reason=reason)
