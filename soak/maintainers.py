"""Concurrent maintainers changing one patch through REST, XML-RPC and the web UI at once."""

from __future__ import annotations

import random
import re
import threading
import xmlrpc.client
from collections import Counter
from dataclasses import dataclass, field

import httpx

STATES = ["new", "under-review", "accepted", "rejected", "changes-requested", "deferred"]


@dataclass
class Outcome:
    interface: str
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def rest_writer(base: str, patch_id: int, token: str, rounds: int, seed: int) -> Outcome:
    out = Outcome("REST")
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Token {token}"}) as c:
        for _ in range(rounds):
            try:
                response = c.patch(
                    f"/api/1.4/patches/{patch_id}/", json={"state": rng.choice(STATES)}
                )
                out.statuses[response.status_code] += 1
            except httpx.HTTPError as exc:
                out.errors.append(repr(exc))
    return out


def xmlrpc_writer(
    base: str,
    patch_id: int,
    username: str,
    password: str,
    states: dict[str, int],
    rounds: int,
    seed: int,
) -> Outcome:
    out = Outcome("XML-RPC")
    rng = random.Random(seed)
    host = base.removeprefix("http://")
    proxy = xmlrpc.client.ServerProxy(f"http://{username}:{password}@{host}/xmlrpc/")
    for _ in range(rounds):
        try:
            proxy.patch_set(patch_id, {"state": states[rng.choice(STATES)]})
            out.statuses[200] += 1
        except xmlrpc.client.ProtocolError as exc:
            out.statuses[exc.errcode] += 1
        except (xmlrpc.client.Fault, OSError) as exc:
            out.statuses[0] += 1
            out.errors.append(repr(exc))
    return out


def _csrf(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    return match.group(1) if match else client.cookies.get("csrftoken", "")


def web_writer(
    base: str, patch_url: str, username: str, password: str, rounds: int, seed: int
) -> Outcome:
    out = Outcome("web UI")
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=60) as c:
        token = _csrf(c, "/user/login/")
        login = c.post(
            "/user/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        )
        if login.status_code != 302:
            out.errors.append(f"login answered {login.status_code}")
            return out
        token = _csrf(c, patch_url)
        for _ in range(rounds):
            try:
                response = c.post(
                    patch_url,
                    data={
                        "state": rng.choice(STATES),
                        "delegate": "",
                        "commit_ref": "",
                        "csrfmiddlewaretoken": token,
                    },
                    headers={"Referer": base + patch_url},
                )
                out.statuses[response.status_code] += 1
            except httpx.HTTPError as exc:
                out.errors.append(repr(exc))
    return out


def run(base: str, patch: dict, users: dict, password: str, rounds: int) -> list[Outcome]:
    """All three at once; returns each interface's outcome."""
    names = list(users)
    jobs = [
        (rest_writer, (base, patch["id"], users[names[0]]["token"], rounds, 1)),
        (xmlrpc_writer, (base, patch["id"], names[1], password, patch["states"], rounds, 2)),
        (web_writer, (base, patch["url"], names[2], password, rounds, 3)),
    ]
    results: list[Outcome] = [None] * len(jobs)  # type: ignore[list-item]

    def target(index, func, args):
        results[index] = func(*args)

    threads = [threading.Thread(target=target, args=(i, f, a)) for i, (f, a) in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    return [r for r in results if r is not None]


def history_problems(history: dict) -> list[str]:
    """Breaks in the chain of state changes: a lost update or an event missing."""
    problems = []
    events = history["events"]
    for before, after in zip(events, events[1:], strict=False):
        if after["previous"] != before["current"]:
            problems.append(
                f"event says {after['previous']}→{after['current']} after "
                f"{before['previous']}→{before['current']}"
            )
    if events and events[-1]["current"] != history["state"]:
        problems.append(f"patch is {history['state']}, its last event says {events[-1]['current']}")
    return problems
