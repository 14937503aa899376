"""Who is the client: the peer, or the address a trusted proxy in front of us saw.

One function for the throttles and /healthz, driven by TRUSTED_PROXIES.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress._BaseNetwork, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _trusted_proxy(value: str) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(request) -> str:
    """The client's address: the peer, or what a trusted proxy in front of us says it saw.

    X-Forwarded-For is believed only when the peer is one of TRUSTED_PROXIES, and
    then read from the right: the entry the nearest proxy appended, skipping
    further trusted proxies. Anyone else cannot choose the address they are counted by.
    """
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",")] if forwarded else []
    while hops and _trusted_proxy(address):
        hop = hops.pop()
        if not _is_ip(hop):
            break
        address = hop
    return address


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def client_is_local(request) -> bool:
    """Whether the client (through trusted proxies) is this host itself."""
    try:
        return ipaddress.ip_address(client_address(request)).is_loopback
    except ValueError:
        return False
