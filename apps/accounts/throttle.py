"""Small cache-based counters that slow down password guessing and mail flooding.

Counters live in Django's default cache: per process with the local-memory cache,
shared by every web process once the cache is Redis.

What is throttled is the credential that fails, never the ones that work: a
password is counted per account (by username or e-mail address alike) and
client address; a wrong token only ever refuses wrong tokens.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache

from apps.accounts.clientaddr import client_address
from apps.accounts.selectors import user_by_login

__all__ = ["client_address"]  # callers count by it; it lives in config beside the settings

# Failed logins allowed per account and client address within the window; then that
# account's logins from that address are refused (even the right password, so the
# guesser learns nothing) until it passes.
LOGIN_FAILURES_PER_USER = 5
# Failed logins per client address across accounts (password spraying): past this,
# the address may still log in to the accounts that logged in from it before.
LOGIN_FAILURES_PER_ADDRESS = 30
LOGIN_WINDOW_SECONDS = 15 * 60
# How long a successful login vouches for that account at that address.
KNOWN_LOGIN_SECONDS = 30 * 24 * 3600

# Wrong tokens (API, mail intake) per client address before the answer says so; the
# right token is always accepted, so a broken client never locks out a working one.
TOKEN_FAILURES_PER_ADDRESS = 5

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


def account_key(identifier: str) -> str:
    """One name per account whether it is given by username or by e-mail address."""
    user = user_by_login(identifier)
    return (user.username if user is not None else identifier.strip()).lower()


def login_blocked(account: str, address: str) -> bool:
    """Whether logins to this account (account_key) from this address are refused now."""
    if _count(_key("login-user", account, address)) >= LOGIN_FAILURES_PER_USER:
        return True
    return _count(_key("login-addr", address)) >= LOGIN_FAILURES_PER_ADDRESS and not cache.get(
        _key("login-known", account, address)
    )


def login_failed(account: str, address: str) -> None:
    _hit(_key("login-user", account, address), LOGIN_WINDOW_SECONDS)
    _hit(_key("login-addr", address), LOGIN_WINDOW_SECONDS)


def login_succeeded(account: str, address: str) -> None:
    cache.delete(_key("login-user", account, address))
    cache.set(_key("login-known", account, address), 1, timeout=KNOWN_LOGIN_SECONDS)


def token_failed(kind: str, address: str) -> bool:
    """Count a wrong token of this kind from this address; True once there were too many."""
    return _hit(_key("token", kind, address), LOGIN_WINDOW_SECONDS) > TOKEN_FAILURES_PER_ADDRESS


def mail_allowed(address: str, recipient: str) -> bool:
    """Count a confirmation mail; False once the sender or the recipient had enough."""
    sender_key = _key("mail-addr", address)
    recipient_key = _key("mail-to", recipient.strip().lower())
    if _count(sender_key) >= MAILS_PER_ADDRESS or _count(recipient_key) >= MAILS_PER_RECIPIENT:
        return False
    _hit(sender_key, MAIL_WINDOW_SECONDS)
    _hit(recipient_key, MAIL_WINDOW_SECONDS)
    return True
