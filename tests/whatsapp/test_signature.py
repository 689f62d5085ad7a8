from __future__ import annotations

import pytest

from whatsapp.signature import sign, verify

BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def test_matches_the_documented_test_vector():
    assert sign(BODY, "test_app_secret") == "sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756"


def test_verify_accepts_the_right_signature():
    assert verify(BODY, sign(BODY, "s3cret"), "s3cret")


@pytest.mark.parametrize(
    ("body", "header", "secret"),
    [
        (BODY, None, "s3cret"),
        (BODY, "", "s3cret"),
        (BODY, sign(BODY, "other"), "s3cret"),
        (BODY.replace(b":", b": "), sign(BODY, "s3cret"), "s3cret"),  # re-serialised JSON changes the bytes
        (BODY, sign(BODY, "s3cret")[7:], "s3cret"),
        (BODY, "sha1=" + sign(BODY, "s3cret")[7:], "s3cret"),
        (BODY, sign(BODY, ""), ""),  # no secret configured: nothing verifies
        (BODY, "sha256=ä" * 3, "s3cret"),
    ],
)
def test_verify_refuses(body, header, secret):
    assert not verify(body, header, secret)
