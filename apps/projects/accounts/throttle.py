"""Small cache-based counters that slow down password guessing and mail flooding.

Counters live in Django's default cache: per process with the local-memory cache,
shared by every web process once the cache is Redis.
"""

from __future__ import annotations

import hashlib
import ipaddress

from django.core.cache import cache

# Failed logins allowed per (username, client address), and per client address
# across usernames, within the window; then logins are refused until it passes.
LOGIN_FAILURES_PER_USER = 5
LOGIN_FAILURES_PER_ADDRESS = 30
LOGIN_WINDOW_SECONDS = 15 * 60

# Confirmation mails (links, opt-out, opt-in) one client address may cause, and
# one recipient may receive, within the window.
MAILS_PER_ADDRESS = 10
MAILS_PER_RECIPIENT = 3
MAIL_WINDOW_SECONDS = 60 * 60


def _key(scope: str, *parts: str) -> str:
    # Hash so any user input makes a valid, bounded cache key.
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    return f"throttle:{scope}:{digest}"


def _count(key: str) -> int:
    return int(cache.get(key, 0))


def _hit(key: str, window: int) -> int:
    # add() is a no-op when the key exists, so the window starts at the first hit.
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window)
        return 1


def client_address(request) -> str:
    """The client's address: the peer, or what a local proxy in front of us says it saw.

    X-Forwarded-For is believed only when the peer itself is a loopback or private
    address (a reverse proxy beside us), and then only its last entry, the one that
    proxy appended; anyone connecting directly cannot choose their address.
    """
    peer = request.META.get("REMOTE_ADDR", "") or "unknown"
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and _is_local(peer):
        last = forwarded.split(",")[-1].strip()
        if _is_ip(last):
            return last
    return peer


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_local(value: str) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def login_blocked(username: str, address: str) -> bool:
    """Whether too many logins failed recently for this username from this address."""
    return (
        _count(_key("login-user", username.strip().lower(), address)) >= LOGIN_FAILURES_PER_USER
        or _count(_key("login-addr", address)) >= LOGIN_FAILURES_PER_ADDRESS
    )


def login_failed(username: str, address: str) -> None:
    _hit(_key("login-user", username.strip().lower(), address), LOGIN_WINDOW_SECONDS)
    _hit(_key("login-addr", address), LOGIN_WINDOW_SECONDS)


def login_succeeded(username: str, address: str) -> None:
    cache.delete(_key("login-user", username.strip().lower(), address))


def mail_allowed(address: str, recipient: str) -> bool:
    """Count a confirmation mail; False once the sender or the recipient had enough."""
    sender_key = _key("mail-addr", address)
    recipient_key = _key("mail-to", recipient.strip().lower())
    if _count(sender_key) >= MAILS_PER_ADDRESS or _count(recipient_key) >= MAILS_PER_RECIPIENT:
        return False
    _hit(sender_key, MAIL_WINDOW_SECONDS)
    _hit(recipient_key, MAIL_WINDOW_SECONDS)
    return True
