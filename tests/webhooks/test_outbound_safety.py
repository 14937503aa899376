"""The outbound HTTP module: SSRF refusals before any connection, no redirects, caps, timeouts.

Every request here goes to 127.0.0.1; names resolve through the stub resolver only.
"""

from __future__ import annotations

import pytest

from apps.webhooks import outbound
from apps.webhooks.outbound import TargetRefused, url_check

FORBIDDEN_URLS = [
    "http://127.0.0.1:9/hook",
    "http://10.0.0.1/hook",
    "http://[::1]:9/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
    "http://localhost.test/hook",  # the stub resolves it to loopback
    "http://mixed.test/hook",  # one public and one private address
]


@pytest.fixture
def names(resolver):
    resolver.names["localhost.test"] = ["127.0.0.1"]
    resolver.names["mixed.test"] = ["93.184.216.34", "10.1.2.3"]
    resolver.names["public.test"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    return resolver


@pytest.mark.parametrize("url", FORBIDDEN_URLS)
def test_private_targets_are_refused_before_any_connection(
    url, names, production_targets, no_connections
):
    with pytest.raises(TargetRefused, match="not allowed"):
        url_check(url)
    outcome = outbound.post(url, body=b"{}", headers={})
    assert not outcome.ok and outcome.permanent
    assert "not allowed" in outcome.error
    assert no_connections == []


def test_a_loopback_receiver_gets_nothing_in_production_settings(receiver, production_targets):
    outcome = outbound.post(receiver.url, body=b"{}", headers={})
    assert outcome.permanent and "not allowed" in outcome.error
    assert receiver.connections == 0 and receiver.requests == []


def test_public_names_pass_the_check(names, production_targets):
    target = url_check("https://public.test/hook?token=1")
    assert target.addresses == ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    assert (target.host, target.port, target.scheme) == ("public.test", 443, "https")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://public.test/", "Only http:// and https://"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("gopher://public.test/", "Only http:// and https://"),
        ("http:///nohost", "no host"),
        ("http://user:pass@public.test/", "Credentials"),
        ("http://public.test:99999/", "Invalid URL"),
        ("http://unknown.test/", "Cannot resolve"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(url, reason, names, no_connections):
    with pytest.raises(TargetRefused, match=reason):
        url_check(url)
    assert no_connections == []


def test_allowed_private_targets_in_development(receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    outcome = outbound.post(receiver.url, body=b'{"a":1}', headers={"X-Test": "yes"})
    assert outcome.ok and outcome.status == 200 and outcome.body == "ok"
    (request,) = receiver.requests
    assert request.body == b'{"a":1}' and request.headers["x-test"] == "yes"


def test_connects_to_the_checked_address_and_names_the_host(receiver, resolver):
    resolver.names["ci.example.test"] = ["127.0.0.1"]
    url = f"http://ci.example.test:{receiver.port}/hook?x=1"
    outcome = outbound.post(url, body=b"{}", headers={})
    assert outcome.ok
    (request,) = receiver.requests
    assert request.path == "/hook?x=1"
    assert request.headers["host"] == f"ci.example.test:{receiver.port}"
    # Resolved once, at send time; the connection went to that address.
    assert resolver.calls == ["ci.example.test"]


def test_rebinding_to_a_private_address_after_the_check_is_refused_at_delivery(
    names, production_targets, no_connections
):
    names.names["rebind.test"] = ["93.184.216.34"]
    url_check("http://rebind.test/hook")  # accepted when the webhook was saved
    names.names["rebind.test"] = ["127.0.0.1"]
    outcome = outbound.post("http://rebind.test/hook", body=b"{}", headers={})
    assert outcome.permanent and "127.0.0.1" in outcome.error
    assert no_connections == []


def test_redirects_are_a_failure_and_not_followed(receiver):
    receiver.respond(302, headers={"Location": receiver.url + "/elsewhere"})
    outcome = outbound.post(receiver.url, body=b"{}", headers={})
    assert not outcome.ok and not outcome.permanent
    assert outcome.status == 302 and "redirect" in outcome.error
    assert len(receiver.requests) == 1


def test_gone_is_permanent_and_server_errors_are_transient(receiver):
    receiver.respond(410, 500)
    gone = outbound.post(receiver.url, body=b"{}", headers={})
    broken = outbound.post(receiver.url, body=b"{}", headers={})
    assert gone.permanent and gone.status == 410
    assert not broken.permanent and broken.status == 500 and broken.error == "HTTP 500"


def test_retry_after_is_read_on_429_and_503_only(receiver):
    receiver.respond(429, 503, 500, headers={"Retry-After": "120"})
    assert outbound.post(receiver.url, body=b"", headers={}).retry_after == 120
    assert outbound.post(receiver.url, body=b"", headers={}).retry_after == 120
    assert outbound.post(receiver.url, body=b"", headers={}).retry_after is None


def test_retry_after_as_an_http_date():
    assert outbound.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert outbound.retry_after_seconds("soon") is None
    assert outbound.retry_after_seconds(None) is None


def test_response_body_is_read_up_to_the_cap(receiver):
    receiver.respond(500, body=b"x" * (outbound.RESPONSE_BODY_CAP * 50))
    outcome = outbound.post(receiver.url, body=b"{}", headers={})
    assert len(outcome.body) == outbound.RESPONSE_BODY_CAP


def test_a_receiver_that_does_not_answer_times_out(receiver):
    receiver.hold.clear()
    outcome = outbound.post(receiver.url, body=b"{}", headers={}, timeout=0.5)
    assert not outcome.ok and not outcome.permanent
    assert outcome.status is None and outcome.error.startswith("Timed out")


def test_a_closed_port_is_a_transient_network_error():
    from tests.webhooks.receiver import free_port

    outcome = outbound.post(f"http://127.0.0.1:{free_port()}/", body=b"{}", headers={})
    assert not outcome.ok and not outcome.permanent and outcome.status is None
    assert "ConnectError" in outcome.error


def test_target_urls_with_tokens_are_not_logged(receiver, caplog):
    caplog.set_level("DEBUG")
    outbound.post(receiver.url + "?token=s3cr3t", body=b"{}", headers={})
    assert "s3cr3t" not in caplog.text
