"""The one place request values are judged: ids, whole numbers and text.

Everything a client sends — a path segment, a query parameter, a JSON or form
field, an XML-RPC argument — reaches the database only after passing here, so
a malformed value is a 400 or 404 with a message, never a database error:

- whole numbers are ASCII digits within a signed 64-bit integer (``"¹".isdigit()``
  is true but ``int("¹")`` fails, and PostgreSQL refuses anything past bigint);
- ids are such numbers, positive;
- text holds no NUL character (PostgreSQL text cannot store one, and a query
  comparing with it fails).
"""

from __future__ import annotations

import re
from typing import Any

# No column holds more than a signed 64-bit integer; a larger number is no valid value.
MAX_INT = 2**63 - 1

NUL_MESSAGE = "Null characters are not allowed."

_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def parse_int(value: Any) -> int | None:
    """A whole number from an int, an integral float or ASCII digits, within bigint; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():  # JSON's 82.0 is the integer 82
        value = int(value)
    if isinstance(value, str):
        value = value.strip()
        if not _WHOLE_NUMBER.fullmatch(value) or len(value) > 20:
            return None
        value = int(value)
    if isinstance(value, int) and -MAX_INT <= value <= MAX_INT:
        return value
    return None


def parse_id(value: Any) -> int | None:
    """A row id (a positive whole number within bigint); else None."""
    number = parse_int(value)
    return number if number is not None and number > 0 else None


def is_id(value: Any) -> bool:
    """Whether the value names a row by id (rather than by a name)."""
    return parse_id(value) is not None


def has_nul(value: Any) -> bool:
    return isinstance(value, str) and "\x00" in value


def nul_in(data: Any) -> bool:
    """Whether a decoded JSON (or XML-RPC) value holds a NUL anywhere, keys included."""
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any(nul_in(k) or nul_in(v) for k, v in data.items())
    if isinstance(data, (list, tuple)):
        return any(nul_in(v) for v in data)
    return False


def nul_fields(data: dict[str, Any]) -> dict[str, list[str]]:
    """Per-field errors, as a 400 shows them, for every field of a body holding a NUL."""
    return {
        str(key).replace("\x00", ""): [NUL_MESSAGE]
        for key, value in data.items()
        if nul_in(key) or nul_in(value)
    }


def too_big(data: Any) -> bool:
    """Whether a decoded value holds a whole number no column can store, anywhere."""
    if isinstance(data, int) and not isinstance(data, bool):
        return not -MAX_INT <= data <= MAX_INT
    if isinstance(data, dict):
        return any(too_big(v) for v in data.values())
    if isinstance(data, (list, tuple)):
        return any(too_big(v) for v in data)
    return False
