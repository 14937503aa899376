"""An API test client: every request and response is checked against the reference schema."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.test import Client

from apps.accounts.services import api_token_regenerate
from tests.api import schema


class ApiResponse:
    def __init__(self, response, data: Any):
        self.raw = response
        self.status_code = response.status_code
        self.data = data
        self.headers = response.headers

    def json(self) -> Any:
        return self.data

    @property
    def link(self) -> dict[str, str]:
        """The Link header as rel → URL."""
        links = {}
        for entry in filter(None, self.headers.get("Link", "").split(", ")):
            url, rel = entry.split("; ")
            links[rel[len('rel="') : -1]] = url[1:-1]
        return links

    def __repr__(self) -> str:
        return f"<ApiResponse {self.status_code} {str(self.data)[:200]}>"


class ApiClient:
    """Requests to /api/<version>/…; validated unless told the request is out of contract."""

    def __init__(self, version: str | None = schema.LATEST, *, enforce_csrf: bool = False):
        self.version = version
        self.client = Client(enforce_csrf_checks=enforce_csrf)
        self.headers: dict[str, str] = {}

    # --- authentication -------------------------------------------------------------

    def token_auth(self, user) -> ApiClient:
        self.headers["HTTP_AUTHORIZATION"] = f"Token {api_token_regenerate(user=user)}"
        return self

    def basic_auth(self, user, password: str = "password") -> ApiClient:
        raw = base64.b64encode(f"{user.username}:{password}".encode()).decode()
        self.headers["HTTP_AUTHORIZATION"] = f"Basic {raw}"
        return self

    def session_auth(self, user) -> ApiClient:
        self.client.force_login(user)
        return self

    def anonymous(self) -> ApiClient:
        self.headers.pop("HTTP_AUTHORIZATION", None)
        self.client.logout()
        return self

    # --- requests ----------------------------------------------------------------------

    def url(self, path: str, version: str | None = "default") -> str:
        version = self.version if version == "default" else version
        if path.startswith("/api/") or path.startswith("http"):
            return path
        base = f"/api/{version}/" if version else "/api/"
        return base + path.lstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict | list | None = None,
        json_body: Any = None,
        form: dict | list | None = None,
        version: str | None = "default",
        validate: bool = True,
        validate_request: bool = True,
        **extra: str,
    ) -> ApiResponse:
        url = self.url(path, version)
        parts = urlsplit(url)
        query_string = urlencode(query or {}, doseq=True) if query else parts.query
        body: bytes | None = None
        content_type = None
        if json_body is not None:
            body, content_type = json.dumps(json_body).encode(), "application/json"
        elif form is not None:
            body = urlencode(form, doseq=True).encode()
            content_type = "application/x-www-form-urlencoded"
        op = schema.find_operation(parts.path, method) if validate else None
        if op is not None and validate_request:
            schema.check_request(op, query_string, body, content_type)
        kwargs: dict[str, Any] = {**self.headers, **extra}
        if query_string:
            kwargs["QUERY_STRING"] = query_string
        if body is not None:
            kwargs["content_type"] = content_type
        response = self.client.generic(method, parts.path, body or b"", **kwargs)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        data: Any = None
        if validate and op is not None:
            data = schema.check_response(op, response.status_code, content, response.headers)
        elif validate:
            # Not an operation of this version: the answer must be a JSON 404 or 405.
            assert response.status_code in (404, 405), (response.status_code, content[:200])
            if response.status_code == 404:
                data = json.loads(content)
                assert set(data) == {"detail"}, data
        elif content and response.headers.get("Content-Type", "").startswith("application/json"):
            data = json.loads(content)
        return ApiResponse(response, data)

    def get(self, path: str, query: dict | list | None = None, **kw) -> ApiResponse:
        return self.request("GET", path, query=query, **kw)

    def post(self, path: str, data: Any = None, *, form: bool = False, **kw) -> ApiResponse:
        return self._write("POST", path, data, form, **kw)

    def patch(self, path: str, data: Any = None, *, form: bool = False, **kw) -> ApiResponse:
        return self._write("PATCH", path, data, form, **kw)

    def put(self, path: str, data: Any = None, *, form: bool = False, **kw) -> ApiResponse:
        return self._write("PUT", path, data, form, **kw)

    def delete(self, path: str, **kw) -> ApiResponse:
        return self.request("DELETE", path, **kw)

    def _write(self, method, path, data, form, **kw) -> ApiResponse:
        if form:
            return self.request(method, path, form=data if data is not None else {}, **kw)
        return self.request(method, path, json_body=data if data is not None else {}, **kw)
