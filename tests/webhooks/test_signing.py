"""Standard Webhooks signatures: the spec's test vector, rotation, verification."""

from __future__ import annotations

import base64

from apps.webhooks.models import new_secret
from apps.webhooks.signing import (
    request_headers,
    secret_key,
    signature,
    signature_header,
    signature_verify,
)

# The example from the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_standard_webhooks_example():
    assert signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_new_secrets_are_whsec_base64_of_32_random_bytes():
    first, second = new_secret(), new_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32
    assert secret_key(first) == base64.b64decode(first[6:])


def test_rotation_signs_with_both_secrets_space_separated():
    old, new = new_secret(), new_secret()
    header = signature_header([new, old], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    parts = header.split(" ")
    assert len(parts) == 2 and all(p.startswith("v1,") for p in parts)
    assert signature_verify(new, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, header)
    assert signature_verify(old, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, header)
    assert not signature_verify(new_secret(), SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY, header)


def test_signature_covers_id_timestamp_and_body():
    secret = new_secret()
    header = signature_header([secret], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert not signature_verify(secret, "msg_other", SPEC_TIMESTAMP, SPEC_BODY, header)
    assert not signature_verify(secret, SPEC_ID, SPEC_TIMESTAMP + 1, SPEC_BODY, header)
    assert not signature_verify(secret, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY + b" ", header)


def test_request_headers_carry_id_timestamp_signature_event_and_agent(settings):
    settings.SITE_URL = "https://patchwork.example.org"
    secret = new_secret()
    headers = request_headers(
        secrets=[secret], msg_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=b"{}", category="ping"
    )
    assert headers["webhook-id"] == SPEC_ID
    assert headers["webhook-timestamp"] == str(SPEC_TIMESTAMP)
    assert signature_verify(secret, SPEC_ID, SPEC_TIMESTAMP, b"{}", headers["webhook-signature"])
    assert headers["X-Patchwork-Event"] == "ping"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("Patchwork-Webhooks/")
    assert "https://patchwork.example.org" in headers["User-Agent"]
    assert secret not in repr(headers)
