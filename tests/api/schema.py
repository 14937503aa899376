"""Validation of REST requests and responses against the reference OpenAPI schemas.

``tests/api/openapi/v1.X.yaml`` are Patchwork's published schemas, unmodified.
Every response the API test client receives is checked against the schema of
the version it asked for: the status code must be documented for the
operation, the body must validate (JSON Schema 2020-12), and every object must
carry exactly the properties its schema lists — no more, no fewer — because
the reference server always sends every field of a version and none of a
later one.

Where the reference server's real behaviour is not what its schema says, the
schema is corrected here, each correction listed in ``ERRATA`` with the reason.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_DIR = Path(__file__).parent / "openapi"
SPEC_URI = "urn:patchwork-openapi"
VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4")
LATEST = "1.4"

_NULLABLE_STRING = {"type": ["null", "string"]}
_HEADER_VALUES = {
    "type": "object",
    "additionalProperties": {
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    },
}
_FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

# Reasons for each correction applied to the published schemas.
ERRATA = {
    "hash-nullable": "a patch without a diff (a pull request) has no hash: null",
    "diff-nullable": "a patch without a diff (a pull request) has diff null",
    "cover-letter-nullable": "a series without a cover letter has cover_letter null",
    "headers-mixed": "headers map a name to a string, or to a list when the header repeats",
    "content-may-be-empty": "a patch mail may have no commit message: content ''",
    "pull-url-is-text": "pull_url is the repository and ref of a pull request as written "
    "(git://host/repo.git tags/v1), not a bare URI",
    "error-fields": "ErrorPatchUpdate omits related and pull_url, ErrorUserUpdate settings, "
    "which are validated too; ErrorProjectUpdate and ErrorUserUpdate show each field's "
    "messages as a string where the server (like every other error) sends a list",
    "bundle-delete": "DELETE /bundles/{id} exists from 1.2 (git-pw bundle delete) but is "
    "not in the published schema",
    "person-name-nullable": "a person whose mail gave no display name (From: a@example.org) "
    "has name null, as Patchwork's own server answers",
    "name-may-be-empty": "a patch, cover letter or comment whose mail has no Subject has "
    "name '' (Patchwork stores the empty cleaned subject)",
    "list-errors": "lists answer 404 'Invalid page.' for a page out of range and 400 with "
    "per-field messages for a malformed filter; the schema lists only 200",
}


# Additions of this server to the latest version, documented in docs/openapi-beyond.yaml:
# each reference schema named in its ``x-extends`` gains the mapped schema's properties
# (required: the server always sends them). Earlier versions must not carry them.
EXTENSIONS_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi-beyond.yaml"
EXTENSIONS = {
    "revisions": "series previous_revision/next_revisions and patch next_revisions "
    "(latest version only)",
    "range-diff": "series range_diff: the range-diff page's URL (latest version only)",
}


@cache
def load_extensions() -> dict:
    with open(EXTENSIONS_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _apply_extensions(spec: dict) -> None:
    extensions = load_extensions()
    schemas = spec["components"]["schemas"]
    for base, added in extensions["x-extends"].items():
        addition = extensions["components"]["schemas"][added]
        _own_properties(schemas[base]).update(copy.deepcopy(addition["properties"]))
        target = schemas[base] if "properties" in schemas[base] else schemas[base]["allOf"][-1]
        target["required"] = [*target.get("required", []), *addition.get("required", [])]


def _schema(spec: dict, name: str) -> dict:
    return spec["components"]["schemas"][name]


def _own_properties(schema: dict) -> dict:
    """The properties a (possibly allOf) component schema declares itself."""
    if "properties" in schema:
        return schema["properties"]
    for part in schema.get("allOf", []):
        if "properties" in part:
            return part["properties"]
    return {}


def _apply_errata(spec: dict, version: str) -> dict:
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    schemas["PatchList"]["properties"]["hash"] = {**_NULLABLE_STRING, "minLength": 1}
    schemas["PatchList"]["properties"]["pull_url"] = {**_NULLABLE_STRING, "maxLength": 255}
    schemas["PatchUpdate"]["properties"]["pull_url"] = {**_NULLABLE_STRING, "maxLength": 255}
    schemas["Series"]["properties"]["cover_letter"] = {
        "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/CoverEmbedded"}]
    }
    for name in ("PatchDetail", "CoverDetail", "Comment"):
        props = _own_properties(schemas[name])
        props["headers"] = _HEADER_VALUES
        props["content"] = {"type": "string"}
    _own_properties(schemas["PatchDetail"])["diff"] = _NULLABLE_STRING
    for name in ("Person", "PersonEmbedded"):
        _own_properties(schemas[name])["name"] = {**_NULLABLE_STRING, "readOnly": True}
    for name in ("PatchList", "CoverList", "PatchEmbedded", "CoverEmbedded", "CommentEmbedded"):
        _own_properties(schemas[name])["name"].pop("minLength", None)
    messages = {"type": "array", "items": {"type": "string"}}
    schemas["ErrorPatchUpdate"]["properties"].update(related=messages, pull_url=messages)
    for name in ("ErrorProjectUpdate", "ErrorUserUpdate"):
        fields = schemas[name]["properties"]
        schemas[name]["properties"] = {field: messages for field in fields}
    schemas["ErrorProjectUpdate"]["properties"].update(
        {
            field: messages
            for field in (
                "list_archive_url",
                "list_archive_url_format",
                "commit_url_format",
                "show_dependencies",
            )
        }
    )
    schemas["ErrorUserUpdate"]["properties"]["settings"] = messages
    if version == LATEST:
        _apply_extensions(spec)

    for template, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            params = [p.get("$ref", "") for p in operation.get("parameters", [])]
            if "#/components/parameters/Page" in params:
                responses = operation["responses"]
                responses.setdefault("400", _json_response(_FIELD_ERRORS))
                responses.setdefault("404", _json_response({"$ref": "#/components/schemas/Error"}))
        if template.endswith("/bundles/{id}") and "patch" in item:
            item["delete"] = {
                "operationId": "bundles_delete",
                "responses": {
                    "204": {"description": "Deleted"},
                    "403": _json_response({"$ref": "#/components/schemas/Error"}),
                    "404": _json_response({"$ref": "#/components/schemas/Error"}),
                },
            }
    return spec


def _json_response(schema: dict) -> dict:
    return {"description": "", "content": {"application/json": {"schema": schema}}}


@cache
def load_spec(version: str) -> dict:
    with open(SPEC_DIR / f"v{version}.yaml", encoding="utf-8") as fh:
        return _apply_errata(yaml.safe_load(fh), version)


@cache
def _registry(version: str) -> Registry:
    resource = Resource.from_contents(load_spec(version), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


_FORMATS = FormatChecker()


@_FORMATS.checks("uri")
@_FORMATS.checks("url")
def _is_url(value: object) -> bool:
    # The reference stores blank URLs as '' (never null) for a project's URL fields.
    if not isinstance(value, str) or value == "":
        return True
    parts = urlsplit(value)
    return (
        bool(re.fullmatch(r"[a-z][a-z0-9+.-]*", parts.scheme))
        and bool(parts.netloc)
        and (" " not in value)
    )


@_FORMATS.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or "@" in value


def _validate(version: str, pointer: str, instance: Any) -> None:
    validator = Draft202012Validator(
        {"$ref": f"{SPEC_URI}#{pointer}"}, registry=_registry(version), format_checker=_FORMATS
    )
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        details = "\n".join(
            f"  at {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
            for e in errors[:10]
        )
        raise AssertionError(f"API {version}: response does not match {pointer}:\n{details}")


# --- exact keys ----------------------------------------------------------------------


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _merged_properties(spec: dict, schema: dict) -> dict | None:
    schema = _resolve(spec, schema)
    props: dict | None = None
    for part in schema.get("allOf", []):
        found = _merged_properties(spec, part)
        if found is not None:
            props = {**(props or {}), **found}
    if "properties" in schema:
        props = {**(props or {}), **schema["properties"]}
    return props


def _branch_for(spec: dict, schema: dict, instance: Any) -> dict | None:
    """The schema that applies to an instance (null branches, discriminators)."""
    schema = _resolve(spec, schema)
    if instance is None:
        return None
    if "discriminator" in schema and isinstance(instance, dict):
        mapping = schema["discriminator"]["mapping"]
        return {"$ref": mapping[instance[schema["discriminator"]["propertyName"]]]}
    for key in ("oneOf", "anyOf"):
        if key in schema:
            candidates = [s for s in schema[key] if _resolve(spec, s).get("type") != "null"]
            if len(candidates) == 1:
                return _branch_for(spec, candidates[0], instance)
            return None
    return schema


# Properties the reference sends only sometimes.
OPTIONAL_KEYS = {"settings"}  # UserDetail.settings: only for the caller's own account


def check_exact_keys(
    spec: dict, schema: dict, instance: Any, where: str = "", *, subset: bool = False
) -> None:
    """Every object has exactly the properties its schema lists (nested objects too).

    With subset (error bodies: a message per invalid field), only unlisted keys fail.
    """
    schema = _branch_for(spec, schema, instance)
    if schema is None:
        return
    schema = _resolve(spec, schema)
    if isinstance(instance, list):
        items = schema.get("items")
        if items:
            for index, item in enumerate(instance):
                check_exact_keys(spec, items, item, f"{where}[{index}]")
        return
    if not isinstance(instance, dict):
        return
    props = _merged_properties(spec, schema)
    if not props:
        return
    missing = set() if subset else set(props) - set(instance) - OPTIONAL_KEYS
    extra = set(instance) - set(props)
    assert not missing and not extra, (
        f"{where or '<root>'}: missing {sorted(missing)}, unexpected {sorted(extra)}"
    )
    for key, value in instance.items():
        check_exact_keys(spec, props[key], value, f"{where}.{key}")


# --- operations --------------------------------------------------------------------


@dataclass
class Operation:
    version: str
    template: str
    method: str
    spec: dict

    def parameters(self) -> dict[str, dict]:
        spec = load_spec(self.version)
        found = {}
        item = spec["paths"][self.template]
        for param in [*item.get("parameters", []), *self.spec.get("parameters", [])]:
            param = _resolve_param(spec, param)
            found[(param["in"], param["name"])] = param
        return found


def _resolve_param(spec: dict, param: dict) -> dict:
    if "$ref" in param:
        return spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]]
    return param


def version_of(path: str) -> tuple[str, str]:
    """(version, path inside that version's API) of a request path under /api/."""
    match = re.match(r"^/api/(\d\.\d)(/.*|)$", path)
    if match and match.group(1) in VERSIONS:
        return match.group(1), match.group(2) or "/"
    assert path.startswith("/api/"), path
    return LATEST, path[len("/api") :]


def _templates_matching(version: str, inner: str) -> list[str]:
    inner = inner.rstrip("/")
    found = []
    for template in load_spec(version)["paths"]:
        suffix = template[len(f"/api/{version}") :].rstrip("/")
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(suffix)) + "$"
        if re.match(pattern, inner):
            found.append(template)
    return found


def find_operation(path: str, method: str) -> Operation | None:
    """The schema's operation for a request (None if this version has no such operation)."""
    if re.match(r"^/api/\d\.\d/", path) and not re.match(r"^/api/1\.[0-4]/", path):
        return None  # not a version at all
    version, inner = version_of(path)
    spec = load_spec(version)
    for template in _templates_matching(version, inner):
        if method.lower() in spec["paths"][template]:
            item = spec["paths"][template]
            return Operation(version, template, method.lower(), item[method.lower()])
    return None


def check_request(op: Operation, query: str, body: bytes | None, content_type: str | None) -> None:
    """The request is one the schema describes: known query parameters of the right type."""
    params = op.parameters()
    for name, value in parse_qsl(query, keep_blank_values=True):
        param = params.get(("query", name))
        assert param is not None, (
            f"{op.method.upper()} {op.template}: undocumented parameter {name}"
        )
        schema = param.get("schema", {})
        if schema.get("type") == "integer":
            assert re.fullmatch(r"-?\d+", value), f"parameter {name}={value!r} is not an integer"
        if "enum" in schema:
            assert value in schema["enum"], f"parameter {name}={value!r} not in {schema['enum']}"
    if not body:
        return
    request_body = op.spec.get("requestBody")
    assert request_body, f"{op.method.upper()} {op.template} takes no body"
    if "$ref" in request_body:
        request_body = load_spec(op.version)["components"]["requestBodies"][
            request_body["$ref"].rsplit("/", 1)[-1]
        ]
    media = (content_type or "").split(";")[0].strip()
    assert media in request_body["content"], f"{op.template}: {media} bodies are not documented"
    pointer = None
    for key, value in load_spec(op.version)["components"]["requestBodies"].items():
        if value is request_body:
            pointer = _pointer("components", "requestBodies", key, "content", media, "schema")
    if media == "application/json" and pointer:
        _validate(op.version, pointer, json.loads(body))


def check_response(op: Operation, status: int, content: bytes, headers: dict) -> Any:
    """The response is documented for the operation and its body matches; returns the data."""
    responses = op.spec["responses"]
    code = str(status)
    assert code in responses, (
        f"{op.method.upper()} {op.template}: status {status} is not documented "
        f"({sorted(responses)}): {content[:300]!r}"
    )
    documented = responses[code]
    media = documented.get("content", {}).get("application/json")
    if media is None:
        assert not content, f"status {status} should have no body, got {content[:200]!r}"
        return None
    assert headers.get("Content-Type", "").startswith("application/json"), headers
    data = json.loads(content)
    pointer = _pointer(
        "paths", op.template, op.method, "responses", code, "content", "application/json", "schema"
    )
    _validate(op.version, pointer, data)
    check_exact_keys(load_spec(op.version), media["schema"], data, subset=status >= 400)
    link = headers.get("Link")
    if link:
        for entry in link.split(", "):
            assert re.fullmatch(r'<https?://[^>]+>; rel="(next|prev|first|last)"', entry), link
    return data
