"""The one place that makes outbound HTTP requests (webhook deliveries and pings).

It owns the rules: http/https only, a timeout, no redirects, no proxies from the
environment, targets resolving to loopback/private/link-local/multicast addresses
refused unless WEBHOOK_ALLOW_PRIVATE_TARGETS, the check made against the address
actually connected to (no DNS rebinding between check and connect), response
bodies read up to a cap, and every outcome classified as success, transient
failure (retry) or permanent failure (don't).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.utils import timezone

from apps.projects.params import parse_int

RESPONSE_BODY_CAP = 1024  # bytes of the response kept (and read)

# httpx logs every request URL at INFO; target URLs may carry the receiver's own token.
logging.getLogger("httpx").setLevel(logging.WARNING)

Resolver = Callable[[str, int], list[str]]


class TargetRefused(Exception):
    """The URL may not be requested (bad scheme, no host, or a forbidden address)."""


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])  # a str for AF_INET and AF_INET6
        if address not in addresses:
            addresses.append(address)
    return addresses


_tls_context: ssl.SSLContext | None = None


def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every request: building one costs far more than a POST."""
    global _tls_context
    if _tls_context is None:
        _tls_context = httpx.create_ssl_context()
    return _tls_context


# Tests replace this with a stub so that no name is ever resolved for real.
resolve: Resolver = system_resolve


# IPv6 prefixes whose addresses carry an IPv4 address in their last 32 bits: a
# packet to them reaches that IPv4 host (through a NAT64 translator, or the
# host itself speaking IPv4-compatible IPv6), so it is that host we judge.
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# The local-use NAT64 prefix (RFC 8215) translates to whatever IPv4 network the
# site chose, at an offset the site chose: there is no one IPv4 to judge, and
# it never routes beyond the site, so it is refused whole.
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64_WELL_KNOWN or ip in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_is_public(address: str) -> bool:
    """Whether an IP address is a globally routable unicast address (IPv4 inside IPv6 too)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL_USE:
            return False
        ip = _embedded_ipv4(ip) or ip
    return ip.is_global and not ip.is_multicast


@dataclass
class Target:
    """A checked URL: what to connect to and what to call it."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: list[str]


def url_check(url: str, *, resolver: Resolver | None = None) -> Target:
    """Validate a target URL and resolve it; raise TargetRefused with a reason if not allowed."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"Invalid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused("Only http:// and https:// URLs are allowed.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("Credentials in the URL are not allowed.")
    port = port or (443 if scheme == "https" else 80)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = (resolver or resolve)(host, port)
        except (OSError, UnicodeError) as exc:
            raise TargetRefused(f"Cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise TargetRefused(f"Cannot resolve {host}.")
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        for address in addresses:
            if not address_is_public(address):
                raise TargetRefused(
                    f"{host} resolves to {address}, a loopback, private, link-local or "
                    "multicast address; such targets are not allowed."
                )
    return Target(url=url, scheme=scheme, host=host, port=port, addresses=addresses)


@dataclass
class Outcome:
    """What happened to one request; `error` is set when no usable response came back."""

    ok: bool = False
    permanent: bool = False
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    error: str = ""
    duration_ms: int = 0
    retry_after: float | None = None


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a Retry-After header (delta-seconds or an HTTP date) into seconds from now."""
    if not value:
        return None
    value = value.strip()
    seconds = parse_int(value)
    if seconds is not None and seconds >= 0:
        return float(seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


def _connect_url(target: Target, address: str) -> str:
    parts = urlsplit(target.url)
    host = f"[{address}]" if ":" in address else address
    return urlunsplit((target.scheme, f"{host}:{target.port}", parts.path or "/", parts.query, ""))


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


# One HTTP client per receiver (scheme, host name, port), kept across deliveries: its
# connections stay open (keep-alive), so an event's POST to a CI system that had the
# last one skips connecting (and TLS). Keyed by the name, not only the address, so a
# TLS connection verified for one name never carries another name's requests; its
# connections are keyed by the address checked for each request (url_check runs
# every time), so a reused connection always goes where the rules just allowed.
CLIENTS_KEPT = 512  # receivers whose clients are kept; the least recently used goes
KEEPALIVE_SECONDS = 15.0
_clients: OrderedDict[tuple[str, str, int], httpx.Client] = OrderedDict()
_clients_lock = threading.Lock()


def _client_for(target: Target) -> httpx.Client:
    key = (target.scheme, target.host.lower(), target.port)
    with _clients_lock:
        client = _clients.get(key)
        if client is not None:
            _clients.move_to_end(key)
            return client
        client = httpx.Client(
            follow_redirects=False,
            trust_env=False,
            verify=tls_context(),
            # The host cap (hostcap.py) bounds the connections to a receiver, not this.
            limits=httpx.Limits(
                max_connections=None,
                max_keepalive_connections=settings.WEBHOOK_HOST_CONCURRENCY,
                keepalive_expiry=KEEPALIVE_SECONDS,
            ),
        )
        _clients[key] = client
        while len(_clients) > CLIENTS_KEPT:
            # Not closed here: another thread may be sending on it; its sockets close
            # when it is collected.
            _clients.popitem(last=False)
        return client


def clients_forget() -> None:
    """Close every kept client and its connections (tests; settings changed)."""
    with _clients_lock:
        kept = list(_clients.values())
        _clients.clear()
    for client in kept:
        client.close()


def post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    resolver: Resolver | None = None,
    timeout: float | None = None,
) -> Outcome:
    """POST body to url under the rules above; never raises for network or HTTP failures."""
    started = time.monotonic()
    outcome = Outcome()
    try:
        target = url_check(url, resolver=resolver)
    except TargetRefused as exc:
        outcome.permanent = True
        outcome.error = str(exc)
        return outcome
    timeout = timeout if timeout is not None else settings.WEBHOOK_TIMEOUT_SECONDS
    # Connect to the address that was checked, naming the host for HTTP and TLS.
    address = target.addresses[0]
    request_headers = {**headers, "Host": _host_header(target)}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        client = _client_for(target)
        request = client.build_request(
            "POST",
            _connect_url(target, address),
            content=body,
            headers=request_headers,
            extensions=extensions,
            timeout=timeout,
        )
        response = client.send(request, stream=True)
        try:
            outcome.status = response.status_code
            outcome.headers = dict(response.headers.items())
            outcome.retry_after = retry_after_seconds(response.headers.get("retry-after"))
            outcome.body = _read_capped(response, deadline=started + timeout)
        finally:
            response.close()
    except httpx.TimeoutException:
        outcome.error = f"Timed out after {timeout:g} s"
    except httpx.HTTPError as exc:
        outcome.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    except OSError as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    if outcome.status is not None:
        _classify(outcome)
    return outcome


def _read_capped(response: httpx.Response, *, deadline: float) -> str:
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= RESPONSE_BODY_CAP or time.monotonic() > deadline:
            break
    return data[:RESPONSE_BODY_CAP].decode("utf-8", errors="replace")


def _classify(outcome: Outcome) -> None:
    status = outcome.status or 0
    if 200 <= status < 300:
        outcome.ok = True
    elif status == 410:
        outcome.permanent = True
        outcome.error = "410 Gone: the receiver asked to stop"
    elif 300 <= status < 400:
        outcome.error = f"{status} redirect (redirects are not followed)"
    else:
        outcome.error = f"HTTP {status}"
    if status not in (429, 503):
        outcome.retry_after = None  # only these two ask us to wait
