"""Comparing two snapshots and printing the soak report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

SECTIONS = ("mail", "patches", "covers", "comments", "series", "tags", "events", "people")
EXAMPLES = 5


def differences(expected: dict, actual: dict) -> dict[str, list[str]]:
    """Per snapshot section, what differs (empty lists: identical)."""
    found: dict[str, list[str]] = {}
    for section in SECTIONS:
        a, b = expected.get(section), actual.get(section)
        lines: list[str] = []
        if isinstance(a, list) or isinstance(b, list):
            a, b = {k: a.count(k) for k in a or []}, {k: b.count(k) for k in b or []}
        a, b = a or {}, b or {}
        for key in sorted(set(a) | set(b), key=str):
            if key not in b:
                lines.append(f"missing: {key} = {_short(a[key])}")
            elif key not in a:
                lines.append(f"extra: {key} = {_short(b[key])}")
            elif a[key] != b[key]:
                lines.append(f"differs: {key}: {_short(a[key])} != {_short(b[key])}")
        found[section] = lines
    return found


def _short(value) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) < 200 else text[:200] + "…"


def sizes(snapshot: dict) -> str:
    counts = {
        "mails": sum(snapshot["mail"].values()),
        "patches": len(snapshot["patches"]),
        "covers": len(snapshot["covers"]),
        "comments": len(snapshot["comments"]),
        "series": len(snapshot["series"]),
        "tags": sum(snapshot["tags"].values()),
        "events": sum(snapshot["events"].values()),
        "people": len(snapshot["people"]),
    }
    return ", ".join(f"{v} {k}" for k, v in counts.items())


def mail_outcomes(snapshot: dict) -> str:
    outcomes: dict[str, int] = {}
    for key, n in snapshot["mail"].items():
        status = key.split(" ")[1]
        outcomes[status] = outcomes.get(status, 0) + n
    return ", ".join(f"{n} {s}" for s, n in sorted(outcomes.items()))


@dataclass
class Report:
    """Lines per section, and every check with whether it held."""

    lines: list[str] = field(default_factory=list)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def section(self, title: str) -> None:
        self.lines += ["", title, "-" * len(title)]

    def say(self, text: str) -> None:
        self.lines.append(text)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((name, ok, detail))
        self.lines.append(
            f"[{'PASS' if ok else 'FAIL'}] {name}" + (f": {detail}" if detail else "")
        )
        return ok

    def diff(self, name: str, found: dict[str, list[str]]) -> bool:
        total = sum(len(v) for v in found.values())
        per = ", ".join(f"{k} {len(v)}" for k, v in found.items())
        ok = self.check(f"{name}: differences (must be 0)", total == 0, f"{total} ({per})")
        for section, lines in found.items():
            for line in lines[:EXAMPLES]:
                self.lines.append(f"    {section}: {line}")
            if len(lines) > EXAMPLES:
                self.lines.append(f"    {section}: … {len(lines) - EXAMPLES} more")
        return ok

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.checks)

    def text(self) -> str:
        failed = [name for name, ok, _ in self.checks if not ok]
        summary = (
            f"RESULT: {'PASS' if not failed else 'FAIL'} — {len(self.checks) - len(failed)} of "
            f"{len(self.checks)} checks held"
        )
        if failed:
            summary += "; failed: " + "; ".join(failed)
        return "\n".join([*self.lines, "", summary])
